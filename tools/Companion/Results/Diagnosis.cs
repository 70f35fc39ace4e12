using System.Text;
using System.Text.RegularExpressions;

namespace ConcurrencyKata.Companion;

/// <summary>How much a failure tells the learner.</summary>
internal enum DiagnosisKind
{
    /// <summary>A test's own diagnosis: an assertion or a deadline that says what broke and why.</summary>
    NamesARule = 1,

    /// <summary>An exception from the code under test that no test explained (e.g. "Queue empty."), or a thread that died.</summary>
    Unexplained = 2,

    /// <summary>The stub's NotImplementedException: the step is not started yet.</summary>
    NotImplemented = 3,
}

/// <summary>
/// A failure as the learner needs to read it: the diagnosis the test wrote, whole, without exception type names,
/// inner-exception chains, stack frames or the assertion library's "should be / but was" layout; and how much it
/// tells (<see cref="DiagnosisKind"/>), so that a board can lead with the failures that name a rule.
/// </summary>
internal sealed partial record Diagnosis(string Test, string Text, DiagnosisKind Kind)
{
    /// <summary>The longest diagnosis a board shows; dotnet test's own output has the rest.</summary>
    public const int MaxLength = 700;

    private const string AdditionalInfo = "Additional Info:";
    private const string ScheduleTable = "The schedule that breaks it";
    private const string MultipleFailures = "Multiple failures or warnings in test:";

    /// <summary>How many distinct diagnoses the board shows for a step, at most (<see cref="Lead"/>).</summary>
    public const int LeadSize = 3;

    /// <summary>Reads the diagnosis out of a test's failure message.</summary>
    public static Diagnosis Of(string test, string message)
    {
        var lines = message.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        lines = [.. lines.SkipWhile(l => l.Trim().Length == 0)];
        if (lines.Length > 0 && Stage().Match(lines[0]) is { Success: true } stage)
        {
            // "SetUp : System.NotImplementedException : …": where it failed is NUnit's business, not the learner's.
            lines[0] = lines[0][stage.Length..];
        }

        if (lines.Length > 0 && lines[0].Trim().StartsWith(MultipleFailures, StringComparison.Ordinal))
        {
            return Multiple(test, lines);
        }

        var first = lines.FirstOrDefault()?.Trim() ?? "";
        var type = ExceptionPrefix().Match(first);
        var typeName = type.Success ? type.Groups["type"].Value : null;
        var kind = typeName switch
        {
            "NotImplementedException" => DiagnosisKind.NotImplemented,
            null or "ShouldAssertException" or "AssertionException" or "MultipleAssertException" => DiagnosisKind.NamesARule,
            _ => DiagnosisKind.Unexplained,
        };

        // Keep the test's own words: drop inner-exception chains and stack frames, and stop before a step table.
        var kept = new List<string>();
        foreach (var raw in lines)
        {
            var line = raw.TrimEnd();
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith("---->", StringComparison.Ordinal) || trimmed.StartsWith("at ", StringComparison.Ordinal) && line.StartsWith(' '))
            {
                continue;
            }

            if (trimmed.StartsWith(ScheduleTable, StringComparison.Ordinal))
            {
                kept.Add("(The breaking schedule, step by step, is in dotnet test's output.)");
                break;
            }

            kept.Add(line);
        }

        var text = string.Join('\n', kept).Trim();
        if (type.Success && text.StartsWith(type.Value, StringComparison.Ordinal))
        {
            text = text[type.Value.Length..];
        }

        if (kind == DiagnosisKind.NotImplemented)
        {
            text = "not implemented yet: " + text;
        }

        if (text.Contains(AdditionalInfo, StringComparison.Ordinal) && kind == DiagnosisKind.NamesARule)
        {
            // Shouldly: "<expression>\n    should be\n<expected>\n    but was\n<actual>\n\nAdditional Info:\n    <diagnosis>".
            var at = text.IndexOf(AdditionalInfo, StringComparison.Ordinal);
            var assertion = OneLine(text[..at]);
            text = OneLine(text[(at + AdditionalInfo.Length)..]) + (assertion.Length > 0 ? $" ({assertion})" : "");
        }
        else if (LearnerThreadThrew().IsMatch(text) || text.Contains("died of an unhandled", StringComparison.Ordinal))
        {
            kind = kind == DiagnosisKind.NotImplemented ? kind : DiagnosisKind.Unexplained;
        }

        text = OneLine(text);
        if (text.Length > MaxLength)
        {
            text = text[..(MaxLength - 1)].TrimEnd() + "…";
        }

        return new Diagnosis(test, text, kind);
    }

    /// <summary>
    /// NUnit's "Multiple failures or warnings in test:" followed by "1) …", "2) …": each item read on its own, the
    /// ones that repeat an earlier item dropped (a thread's exception that only carries the same assertion).
    /// </summary>
    private static Diagnosis Multiple(string test, string[] lines)
    {
        var items = new List<List<string>>();
        foreach (var line in lines.Skip(1))
        {
            var item = ItemNumber().Match(line);
            if (item.Success)
            {
                items.Add([line[item.Length..]]);
            }
            else if (items.Count > 0)
            {
                items[^1].Add(line);
            }
        }

        var read = items.Select(i => Of(test, string.Join('\n', i))).ToList();
        if (read.Count == 0)
        {
            return new Diagnosis(test, MultipleFailures, DiagnosisKind.Unexplained);
        }

        var kept = new List<Diagnosis>();
        foreach (var d in read.OrderBy(d => (int)d.Kind))
        {
            if (!kept.Any(k => k.Text.Contains(d.Text.TrimEnd('…'), StringComparison.Ordinal) || d.Text.Contains(k.Text.TrimEnd('…'), StringComparison.Ordinal)))
            {
                kept.Add(d);
            }
        }

        var text = string.Join(" Also: ", kept.Select(k => k.Text));
        return new Diagnosis(test, text.Length > MaxLength ? text[..(MaxLength - 1)].TrimEnd() + "…" : text, kept[0].Kind);
    }

    /// <summary>The test's name and its diagnosis: "Take_blocks: Deadlock suspected: …".</summary>
    public override string ToString() => $"{Test}: {Text}";

    /// <summary>Picks what a board shows for a group of failures: the distinct diagnoses that name a rule first, in
    /// the order the tests ran, then the others, at most <paramref name="max"/>. Stubs that are not implemented yet
    /// need saying once: they are shown only when nothing else failed, and then only the first.</summary>
    public static IReadOnlyList<Diagnosis> Lead(IEnumerable<Diagnosis> failures, int max = LeadSize)
    {
        var ordered = failures
            .Select((d, i) => (d, i))
            .OrderBy(x => (int)x.d.Kind)
            .ThenBy(x => x.i)
            .Select(x => x.d)
            .DistinctBy(d => d.Text, StringComparer.Ordinal)
            .ToList();
        var explained = ordered.Where(d => d.Kind != DiagnosisKind.NotImplemented).Take(max).ToList();
        return explained.Count > 0 ? explained : ordered.Take(1).ToList();
    }

    /// <summary>Lines joined by single spaces; the assertion library's indentation gone.</summary>
    private static string OneLine(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var part in text.Split('\n'))
        {
            var piece = part.Trim();
            if (piece.Length == 0)
            {
                continue;
            }

            if (builder.Length > 0)
            {
                builder.Append(' ');
            }

            builder.Append(piece);
        }

        return builder.ToString();
    }

    /// <summary>"  1) " before an item of NUnit's multiple failures.</summary>
    [GeneratedRegex(@"^\s*\d+\) ")]
    private static partial Regex ItemNumber();

    /// <summary>NUnit's prefix for a failure outside the test body: "SetUp : ", "TearDown : ", "OneTimeSetUp: ".</summary>
    [GeneratedRegex(@"^\s*(?:SetUp|TearDown|OneTimeSetUp|OneTimeTearDown)\s?: ")]
    private static partial Regex Stage();

    /// <summary>"System.InvalidOperationException : " or "ConcurrencyKata.TestSupport.LearnerCodeException : ".</summary>
    [GeneratedRegex(@"^(?:[A-Za-z_][\w`]*\.)*(?<type>[A-Za-z_]\w*Exception) : ")]
    private static partial Regex ExceptionPrefix();

    /// <summary>LearnerThread's report of an exception nobody expected: "taker-1 threw InvalidOperationException: …".</summary>
    [GeneratedRegex(@"^[\w\- ]+ threw \w+Exception: ")]
    private static partial Regex LearnerThreadThrew();
}
