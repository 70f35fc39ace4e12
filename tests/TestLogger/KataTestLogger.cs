using System.Globalization;
using System.Text;
using System.Text.Json;
using ConcurrencyKata.Companion;
using Microsoft.VisualStudio.TestPlatform.ObjectModel;
using Microsoft.VisualStudio.TestPlatform.ObjectModel.Client;
using Microsoft.VisualStudio.TestPlatform.ObjectModel.Logging;

namespace ConcurrencyKata.TestLogger;

/// <summary>
/// What a learner reads after <c>dotnet test</c>: per test assembly, each step's state in one line; a step whose tests
/// all hit the stub's NotImplementedException says so once, with the stub's message (it names the step and the
/// README), never a stack trace; a real failure is shown whole: the diagnosis the test wrote, then the frames of the
/// code that failed. A test's step is its [Step(N)] (StepMap). The last lines say where to start: the first exercise and step not done, across the exercises
/// (each run keeps its exercise's state in .kata/dotnet-test/, so the run that ends last knows them all).
/// </summary>
[FriendlyName("kata")]
[ExtensionUri("logger://Concurrency.Kata/TestLogger/v1")]
public sealed class KataTestLogger : ITestLoggerWithParameters
{
    private readonly object _sync = new();
    private readonly List<TestResult> _results = [];

    /// <inheritdoc/>
    public void Initialize(TestLoggerEvents events, string testRunDirectory) => Initialize(events, new Dictionary<string, string?>());

    /// <inheritdoc/>
    public void Initialize(TestLoggerEvents events, Dictionary<string, string?> parameters)
    {
        ArgumentNullException.ThrowIfNull(events);
        events.TestResult += (_, e) =>
        {
            lock (_sync)
            {
                _results.Add(e.Result);
            }
        };
        events.TestRunComplete += (_, _) =>
        {
            List<TestResult> results;
            lock (_sync)
            {
                results = [.. _results];
            }

            var text = new StringBuilder();
            foreach (var assembly in results.GroupBy(r => r.TestCase.Source, StringComparer.Ordinal))
            {
                Report(text, assembly.Key, [.. assembly]);
            }

            Console.Out.Write(text.ToString());
            Console.Out.Flush();
        };
    }

    private static void Report(StringBuilder text, string source, List<TestResult> results)
    {
        var exercise = Exercise(source);
        var learner = source.Replace('\\', '/').Contains("/bin/exercises/", StringComparison.Ordinal);
        var passed = results.Count(r => r.Outcome == TestOutcome.Passed);
        var steps = StepMap.Read(source);
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{(exercise is null ? Path.GetFileNameWithoutExtension(source) : "exercise " + exercise)}: {passed} of {results.Count} tests pass");

        int? next = null;
        foreach (var step in results.GroupBy(r => steps.StepOf(Fixture(r.TestCase.FullyQualifiedName), r.TestCase.DisplayName)).OrderBy(g => g.Key ?? int.MaxValue))
        {
            var name = step.Key is { } n ? $"Step {n}" : "Tests without a step";
            var failed = step.Where(r => r.Outcome == TestOutcome.Failed).ToList();
            var ran = step.Count(r => r.Outcome is TestOutcome.Passed or TestOutcome.Failed);
            if (failed.Count == 0)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {name}: {(ran == step.Count() ? $"all {ran} tests pass" : $"{ran} of {step.Count()} tests ran and pass")}");
                continue;
            }

            next ??= step.Key;
            var diagnoses = failed.Select(r => (Result: r, Diagnosis: Diagnosis.Of(r.TestCase.DisplayName, r.ErrorMessage ?? ""))).ToList();
            var stubs = diagnoses.Where(d => d.Diagnosis.Kind == DiagnosisKind.NotImplemented).ToList();
            if (stubs.Count == failed.Count && step.All(r => r.Outcome != TestOutcome.Passed))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {name}: not started ({failed.Count} tests): {stubs[0].Diagnosis.Text}");
                continue;
            }

            var onStubs = stubs.Count > 0 ? $" ({stubs.Count} of them on a stub not implemented yet)" : "";
            text.AppendLine(CultureInfo.InvariantCulture, $"  {name}: {failed.Count} of {step.Count()} tests fail{onStubs}");
            foreach (var (result, diagnosis) in diagnoses.Where(d => d.Diagnosis.Kind != DiagnosisKind.NotImplemented).OrderBy(d => (int)d.Diagnosis.Kind))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    x {result.TestCase.DisplayName}");
                foreach (var line in Wrap(Message(result.ErrorMessage), 6))
                {
                    text.AppendLine(line);
                }

                foreach (var frame in Frames(result.ErrorStackTrace))
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"        {frame}");
                }
            }
        }

        if (exercise is not null && learner && Root(source) is { } root)
        {
            var state = Path.Combine(Environment.GetEnvironmentVariable("KATA_STATE_DIR") is { Length: > 0 } dir ? dir : Path.Combine(root, ".kata"), "dotnet-test");
            Remember(state, exercise, next);
            WhereToStart(text, root, state);
        }
    }

    /// <summary>Keeps this exercise's first step not done (null: every step passes).</summary>
    private static void Remember(string state, string exercise, int? next)
    {
        try
        {
            Directory.CreateDirectory(state);
            File.WriteAllText(Path.Combine(state, exercise + ".json"), JsonSerializer.Serialize(new Dictionary<string, int?> { ["next"] = next }));
        }
        catch (IOException)
        {
            // Only the closing line depends on it.
        }
    }

    /// <summary>The first exercise (by number) not done, and its first step not done; an exercise never run counts as Step 1.</summary>
    private static void WhereToStart(StringBuilder text, string root, string state)
    {
        foreach (var folder in Directory.GetDirectories(Path.Combine(root, "exercises")).Order(StringComparer.Ordinal))
        {
            var exercise = Path.GetFileName(folder);
            int? next = 1;
            var file = Path.Combine(state, exercise + ".json");
            if (File.Exists(file))
            {
                try
                {
                    next = JsonSerializer.Deserialize<Dictionary<string, int?>>(File.ReadAllText(file))?.GetValueOrDefault("next");
                }
                catch (JsonException)
                {
                    next = 1;
                }
            }

            if (next is { } step)
            {
                text.AppendLine();
                text.AppendLine(CultureInfo.InvariantCulture, $"Where to start: exercise {exercise[..2]}, Step {step}: read exercises/{exercise}/README.md, section \"Step {step}\".");
                text.AppendLine("Your board, with what each failing test says and a hint: dotnet run --project tools/Companion");
                return;
            }
        }

        text.AppendLine();
        text.AppendLine("Every step of every exercise passes. Compare with solutions/, and read catalog/ for the classic mistakes.");
    }

    /// <summary>The fixture's full name in a test's fully qualified name (Ns.Fixture.Method(arguments)).</summary>
    private static string Fixture(string fullyQualifiedName)
    {
        var paren = fullyQualifiedName.IndexOf('(', StringComparison.Ordinal);
        var method = paren >= 0 ? fullyQualifiedName[..paren] : fullyQualifiedName;
        return method[..Math.Max(0, method.LastIndexOf('.'))];
    }

    /// <summary>The message, without the inner-exception chain NUnit appends (the diagnosis is above it).</summary>
    private static string Message(string? message) =>
        string.Join('\n', (message ?? "").Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Where(l => !l.TrimStart().StartsWith("---->", StringComparison.Ordinal))).Trim();

    private static IEnumerable<string> Wrap(string text, int indent) =>
        text.Split('\n').Select(l => new string(' ', indent) + l.TrimEnd());

    /// <summary>The frames of the code that failed (the learner's and the test's), not the framework's.</summary>
    private static IEnumerable<string> Frames(string? stackTrace) =>
        (stackTrace ?? "").Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("at ", StringComparison.Ordinal) && l.Contains(" in ", StringComparison.Ordinal)
                && !l.Contains("ConcurrencyKata.TestSupport.", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .Take(6);

    /// <summary>The exercise a test assembly tests: the NN-name folder above it (tests/NN-name/bin/…).</summary>
    private static string? Exercise(string source)
    {
        var parts = source.Replace('\\', '/').Split('/');
        var at = Array.LastIndexOf(parts, "tests");
        return at >= 0 && at + 1 < parts.Length && parts[at + 1].Length > 3 && char.IsAsciiDigit(parts[at + 1][0]) && char.IsAsciiDigit(parts[at + 1][1]) && parts[at + 1][2] == '-'
            ? parts[at + 1]
            : null;
    }

    /// <summary>The repository root above the test assembly: the folder holding Concurrency.Kata.sln.</summary>
    private static string? Root(string source)
    {
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(source) ?? "."); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Concurrency.Kata.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
