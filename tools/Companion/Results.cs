using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ConcurrencyKata.Companion;

/// <summary>How one test ended, as dotnet test reported it.</summary>
internal enum TestOutcome
{
    /// <summary>Passed.</summary>
    Passed,

    /// <summary>Failed because the stub still throws NotImplementedException: the step is not started.</summary>
    NotImplemented,

    /// <summary>Failed for another reason.</summary>
    Failed,

    /// <summary>Skipped, ignored, inconclusive, not executed or aborted.</summary>
    NotRun,
}

/// <summary>One test result read from a TRX file.</summary>
/// <param name="Exercise">The exercise folder name (e.g. 01-work-queue), from the test assembly's path.</param>
/// <param name="ClassName">The fixture's full name.</param>
/// <param name="Name">The test's name.</param>
/// <param name="Step">The step: the test's StepN category (NUnit XML), or else its fixture's name StepN_….</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Message">The failure message (first line), or empty.</param>
internal sealed record TestResult(string? Exercise, string ClassName, string Name, int? Step, TestOutcome Outcome, string Message);

/// <summary>A compiler (or MSBuild) error from the build that dotnet test ran first.</summary>
internal sealed record BuildError(string? Exercise, string File, int Line, string Code, string Message)
{
    /// <summary>file(line): code: message.</summary>
    public override string ToString() =>
        Line > 0 ? $"{File}({Line.ToString(CultureInfo.InvariantCulture)}): {Code}: {Message}" : $"{File}: {Code}: {Message}";
}

/// <summary>Everything one or more dotnet test runs wrote: test results, run-level problems, build errors.</summary>
internal sealed record RunResults(IReadOnlyList<TestResult> Tests, IReadOnlyList<RunProblem> Problems, IReadOnlyList<BuildError> BuildErrors)
{
    /// <summary>No results at all.</summary>
    public static RunResults Empty { get; } = new([], [], []);
}

/// <summary>A run-level problem (test host crashed, run aborted), attributed to an exercise when possible.</summary>
internal sealed record RunProblem(string? Exercise, string Text);

/// <summary>
/// Reads what <c>dotnet test</c> wrote: TRX files (<c>--logger trx</c>) for outcomes, NUnit's XML
/// (<c>NUnit.TestOutputXml</c>) for the step categories (TRX does not carry NUnit categories), and the console
/// output for build errors. This is the board's only source of truth.
/// </summary>
internal static partial class ResultReader
{
    private static readonly XNamespace Trx = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";

    /// <summary>Reads every *.trx and NUnit *.xml under <paramref name="directory"/>, and build errors from <paramref name="output"/>.</summary>
    public static RunResults ReadDirectory(string directory, IEnumerable<string>? output = null)
    {
        var trx = System.IO.Directory.Exists(directory)
            ? System.IO.Directory.GetFiles(directory, "*.trx", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : [];
        var xml = System.IO.Directory.Exists(directory)
            ? System.IO.Directory.GetFiles(directory, "*.xml", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : [];
        var categories = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var file in xml)
        {
            ReadNUnitSteps(SafeLoad(file), categories);
        }

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

            ReadTrx(doc, categories, tests, problems);
        }

        foreach (var file in xml)
        {
            ReadBlameSequence(SafeLoad(file), problems);
        }

        var errors = output is null ? [] : ReadBuildErrors(output);
        return new RunResults(tests, problems, errors);
    }

    /// <summary>Reads one TRX document: its results, and any abort or crash it reports.</summary>
    internal static void ReadTrx(XDocument doc, IReadOnlyDictionary<string, int> categories, List<TestResult> tests, List<RunProblem> problems)
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

        foreach (var r in root.Descendants(Trx + "UnitTestResult"))
        {
            var testId = (string?)r.Attribute("testId") ?? "";
            definitions.TryGetValue(testId, out var method);
            var className = (string?)method?.Attribute("className") ?? "";
            var name = (string?)r.Attribute("testName") ?? (string?)method?.Attribute("name") ?? "";
            var message = r.Descendants(Trx + "Message").Select(m => m.Value).FirstOrDefault() ?? "";
            var outcome = Classify((string?)r.Attribute("outcome"), message);
            var step = StepOf(className, name, categories);
            tests.Add(new TestResult(ExerciseOf((string?)method?.Attribute("codeBase")), className, name, step, outcome, FirstLine(message)));
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

    /// <summary>Collects each test case's step from NUnit's XML: its own StepN category or its fixture's.</summary>
    internal static void ReadNUnitSteps(XDocument? doc, Dictionary<string, int> into)
    {
        if (doc?.Root is null || doc.Root.Name.LocalName != "test-run")
        {
            return;
        }

        foreach (var testCase in doc.Descendants("test-case"))
        {
            var fullName = (string?)testCase.Attribute("fullname");
            if (fullName is null)
            {
                continue;
            }

            var step = testCase.AncestorsAndSelf()
                .Select(e => e.Element("properties")?.Elements("property")
                    .Where(p => (string?)p.Attribute("name") == "Category")
                    .Select(p => StepCategory().Match((string?)p.Attribute("value") ?? ""))
                    .FirstOrDefault(m => m.Success))
                .FirstOrDefault(m => m is not null);
            if (step is not null)
            {
                into[fullName] = int.Parse(step.Groups["n"].Value, CultureInfo.InvariantCulture);
            }
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

    /// <summary>The exercise a path belongs to: the NN-name after tests/, exercises/ or solutions/.</summary>
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
        "Failed" or "Error" or "Timeout" when message.Contains("NotImplementedException", StringComparison.Ordinal) => TestOutcome.NotImplemented,
        "Failed" or "Error" or "Timeout" => TestOutcome.Failed,
        _ => TestOutcome.NotRun,
    };

    private static int? StepOf(string className, string name, IReadOnlyDictionary<string, int> categories)
    {
        if (categories.TryGetValue(className + "." + name, out var step))
        {
            return step;
        }

        var fixture = className[(className.LastIndexOf('.') + 1)..];
        var m = StepFixture().Match(fixture);
        return m.Success ? int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture) : null;
    }

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

    private static string FirstLine(string text)
    {
        var trimmed = text.Trim();
        var end = trimmed.IndexOfAny(['\r', '\n']);
        return end >= 0 ? trimmed[..end].TrimEnd() : trimmed;
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

    [GeneratedRegex(@"(?:^|/)(?:tests|exercises|solutions)/(?<id>\d{2}-[A-Za-z0-9-]+)(?:/|$)")]
    private static partial Regex ExercisePath();

    [GeneratedRegex(@"^Step(?<n>\d+)$")]
    private static partial Regex StepCategory();

    [GeneratedRegex(@"^Step(?<n>\d+)(?:_|$)")]
    private static partial Regex StepFixture();

    [GeneratedRegex(@"^\s*(?<file>[^\s(][^(]*?)(?<pos>\((?<line>\d+)(?:,\d+)*\))?\s*:\s*error (?<code>[A-Z]+[0-9]+)\s*:\s*(?<msg>.*?)(?:\s*\[(?<proj>[^\]]+)\])?\s*$")]
    private static partial Regex CompilerError();
}
