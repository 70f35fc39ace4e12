using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ConcurrencyKata.Companion;

/// <summary>
/// The one reader of what <c>dotnet test</c> wrote, for the board, the catalog and CI alike: TRX files
/// (<c>--logger trx</c>) for outcomes and messages, the blame collector's sequence file for the test that was running
/// when a test host died, and the console output for build errors (a failed build writes no TRX). A test's step
/// comes from its test assembly (<see cref="StepMap"/>).
/// </summary>
internal static partial class ResultReader
{
    private static readonly XNamespace Trx = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";

    /// <summary>Reads every *.trx and blame sequence under <paramref name="directory"/>, and build errors from <paramref name="output"/>.</summary>
    /// <param name="directory">Where dotnet test wrote its results.</param>
    /// <param name="output">dotnet's console output, for build errors; null when there is none.</param>
    /// <param name="steps">Where the steps come from, per test assembly path; by default the assembly itself.</param>
    public static RunResults ReadDirectory(string directory, IEnumerable<string>? output = null, Func<string?, StepMap>? steps = null)
    {
        var exists = Directory.Exists(directory);
        var trx = exists ? Directory.GetFiles(directory, "*.trx", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList() : [];
        var xml = exists ? Directory.GetFiles(directory, "*.xml", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList() : [];
        var maps = new Dictionary<string, StepMap>(StringComparer.Ordinal);
        var stepsOf = steps ?? (path => path is null ? StepMap.None : CachedRead(path));

        var tests = new List<TestResult>();
        var problems = new List<RunProblem>();
        foreach (var file in trx)
        {
            var doc = SafeLoad(file);
            if (doc is null)
            {
                problems.Add(new RunProblem(null, $"The test results file {Path.GetFileName(file)} is unreadable (the run was cut off?)."));
                continue;
            }

            ReadTrx(doc, stepsOf, tests, problems);
        }

        foreach (var file in xml)
        {
            ReadBlameSequence(SafeLoad(file), problems);
        }

        var errors = output is null ? [] : ReadBuildErrors(output);
        return new RunResults(tests, problems, errors);

        StepMap CachedRead(string path)
        {
            if (!maps.TryGetValue(path, out var map))
            {
                map = StepMap.Read(path);
                maps[path] = map;
            }

            return map;
        }
    }

    /// <summary>Reads one TRX document: its results, and any abort or crash it reports.</summary>
    internal static void ReadTrx(XDocument doc, Func<string?, StepMap> steps, List<TestResult> tests, List<RunProblem> problems)
    {
        var root = doc.Root!;
        var definitions = root.Descendants(Trx + "UnitTest")
            .Select(u => (Id: (string?)u.Attribute("id"), Method: u.Element(Trx + "TestMethod")))
            .Where(d => d.Id is not null && d.Method is not null)
            .GroupBy(d => d.Id!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Method!, StringComparer.Ordinal);

        var exercisesInFile = new HashSet<string>(StringComparer.Ordinal);
        foreach (var method in definitions.Values)
        {
            if (ExerciseOf((string?)method.Attribute("codeBase")) is { } ex)
            {
                exercisesInFile.Add(ex);
            }
        }

        var results = root.Descendants(Trx + "UnitTestResult")
            .Select((r, i) => (Result: r, Index: i, Start: (DateTimeOffset?)ParseTime((string?)r.Attribute("startTime"))))
            .OrderBy(r => r.Start ?? DateTimeOffset.MaxValue)
            .ThenBy(r => r.Index);
        foreach (var (r, _, _) in results)
        {
            var testId = (string?)r.Attribute("testId") ?? "";
            definitions.TryGetValue(testId, out var method);
            var codeBase = (string?)method?.Attribute("codeBase");
            var className = (string?)method?.Attribute("className") ?? "";
            var name = (string?)r.Attribute("testName") ?? (string?)method?.Attribute("name") ?? "";
            var message = r.Descendants(Trx + "Message").Select(m => m.Value).FirstOrDefault() ?? "";
            var outcome = Classify((string?)r.Attribute("outcome"), message);
            var duration = TimeSpan.TryParse((string?)r.Attribute("duration"), CultureInfo.InvariantCulture, out var d) ? d : TimeSpan.Zero;
            tests.Add(new TestResult(ExerciseOf(codeBase), className, name, steps(codeBase).StepOf(className, name), outcome, message.Trim(), duration));
        }

        var summary = root.Element(Trx + "ResultSummary");
        var summaryOutcome = (string?)summary?.Attribute("outcome") ?? "";
        var exercise = exercisesInFile.Count == 1 ? exercisesInFile.First() : null;
        foreach (var info in summary?.Descendants(Trx + "RunInfo") ?? [])
        {
            var text = info.Element(Trx + "Text")?.Value ?? "";
            if (string.Equals((string?)info.Attribute("outcome"), "Error", StringComparison.OrdinalIgnoreCase)
                || text.Contains("aborted", StringComparison.OrdinalIgnoreCase)
                || text.Contains("crash", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add(new RunProblem(exercise, CrashText(text)));
            }
        }

        if (string.Equals(summaryOutcome, "Aborted", StringComparison.OrdinalIgnoreCase)
            && !problems.Any(p => p.Exercise == exercise))
        {
            problems.Add(new RunProblem(exercise, "The test run was aborted before every test had run."));
        }
    }

    /// <summary>
    /// The blame collector's sequence file (kata.runsettings turns it on) names the test that was running when the
    /// test host died: the last one not completed.
    /// </summary>
    internal static void ReadBlameSequence(XDocument? doc, List<RunProblem> problems)
    {
        if (doc?.Root is null || doc.Root.Name.LocalName != "TestSequence")
        {
            return;
        }

        var running = doc.Root.Elements("Test").LastOrDefault(t => string.Equals((string?)t.Attribute("Completed"), "False", StringComparison.OrdinalIgnoreCase));
        if (running is not null)
        {
            var name = (string?)running.Attribute("Name") ?? "?";
            var parts = name.Split('.');
            var shortName = parts.Length >= 2 ? parts[^2] + "." + parts[^1] : name;
            problems.Add(new RunProblem(ExerciseOf((string?)running.Attribute("Source")), $"The test host died while running {shortName}."));
        }
    }

    /// <summary>Build errors in dotnet's console output (<c>file(line,col): error CODE: message [project]</c>).</summary>
    internal static IReadOnlyList<BuildError> ReadBuildErrors(IEnumerable<string> output)
    {
        var errors = new List<BuildError>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in output)
        {
            var m = CompilerError().Match(line);
            if (!m.Success || !seen.Add(m.Groups["file"].Value + m.Groups["pos"].Value + m.Groups["msg"].Value))
            {
                continue;
            }

            var file = m.Groups["file"].Value.Trim();
            var project = m.Groups["proj"].Value;
            var lineNumber = m.Groups["line"].Success ? int.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture) : 0;
            errors.Add(new BuildError(ExerciseOf(file) ?? ExerciseOf(project), ShortPath(file), lineNumber, m.Groups["code"].Value, m.Groups["msg"].Value.Trim()));
        }

        return errors;
    }

    /// <summary>The exercise a path belongs to: the NN-name after tests/, exercises/, solutions/ or catalog/ (a catalog run).</summary>
    internal static string? ExerciseOf(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        var m = ExercisePath().Match(path.Replace('\\', '/'));
        return m.Success ? m.Groups["id"].Value : null;
    }

    private static TestOutcome Classify(string? outcome, string message) => outcome switch
    {
        "Passed" => TestOutcome.Passed,
        "Failed" or "Error" or "Timeout" when Diagnosis.Of("", message).Kind == DiagnosisKind.NotImplemented => TestOutcome.NotImplemented,
        "Failed" or "Error" or "Timeout" => TestOutcome.Failed,
        _ => TestOutcome.NotRun,
    };

    private static DateTimeOffset? ParseTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t : null;

    private static string ShortPath(string file)
    {
        var normal = file.Replace('\\', '/');
        foreach (var top in new[] { "/exercises/", "/tests/", "/solutions/", "/tools/", "/build/" })
        {
            var i = normal.LastIndexOf(top, StringComparison.Ordinal);
            if (i >= 0)
            {
                return normal[(i + 1)..];
            }
        }

        return normal;
    }

    /// <summary>A run-level message without its stack trace: "…crashed : Process terminated. &lt;the reason&gt;".</summary>
    private static string CrashText(string text)
    {
        var lines = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).TakeWhile(l => !l.StartsWith("at ", StringComparison.Ordinal)).Take(3);
        return string.Join(" ", lines);
    }

    private static XDocument? SafeLoad(string file)
    {
        try
        {
            return XDocument.Load(file);
        }
        catch (System.Xml.XmlException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"(?:^|/)(?:tests|exercises|solutions|catalog)/(?<id>\d{2}-[A-Za-z0-9-]+)(?:/|$)")]
    private static partial Regex ExercisePath();

    [GeneratedRegex(@"^\s*(?<file>[^\s(][^(]*?)(?<pos>\((?<line>\d+)(?:,\d+)*\))?\s*:\s*error (?<code>[A-Z]+[0-9]+)\s*:\s*(?<msg>.*?)(?:\s*\[(?<proj>[^\]]+)\])?\s*$")]
    private static partial Regex CompilerError();
}
