using System.Diagnostics;
using System.Text.Json;
using ConcurrencyKata.Companion;
using ConcurrencyKata.TestSupport;

namespace ConcurrencyKata.Tests.Companion;

/// <summary>
/// The companion run for real on this repository, as a learner runs it: `kata progress --json --exercise 01`
/// builds and tests exercise 01's stubs (learner mode) with dotnet test and reports every step not started.
/// </summary>
/// <remarks>
/// These use NUnit's own [Test], not the kata's whole-test deadline of one minute: the first run may have to restore
/// and build learner mode from nothing. Each has its own deadline instead: the companion's process tree is killed
/// when it passes, so a hang ends as a named failure.
/// </remarks>
[TestFixture]
public sealed class EndToEndTests
{
    private static readonly TimeSpan Deadline = Deadlines.Scaled(TimeSpan.FromMinutes(4));

    private static readonly KataRepo Repo = KataRepo.Find(AppContext.BaseDirectory);

    [NUnit.Framework.Test]
    public void Progress_on_the_stubs_of_exercise_01_reports_every_step_not_started()
    {
        var state = Directory.CreateTempSubdirectory("kata-e2e-").FullName;
        try
        {
            var (exit, stdout, stderr) = RunCompanion(state, "progress", "--json", "--exercise", "01", "--root", Repo.Root);

            exit.ShouldBe(0, $"kata progress failed: {stderr}");
            var board = JsonSerializer.Deserialize<Board>(stdout, JsonOptions.Indented).ShouldNotBeNull($"stdout is not a board: {stdout}");
            board.Mode.ShouldBe(KataMode.Learner);
            var ex01 = board.Exercises.ShouldHaveSingleItem();
            ex01.Id.ShouldBe("01-work-queue");
            ex01.State.ShouldBe(ExerciseState.Ran, $"problems: {string.Join("; ", ex01.Problems)}");
            ex01.Steps.Select(s => s.Number).ShouldBe(Repo.Resolve("01").Steps.Select(s => s.Number));
            ex01.Steps.ShouldAllBe(s => s.State == StepState.NotStarted && s.Tests > 0 && s.NotImplemented == s.Tests);
            board.Points.ShouldBe(0);
            board.Next.ShouldNotBeNull().Step.ShouldBe(1);
            board.Next.Hint.ShouldNotBeNullOrWhiteSpace("the board shows the next step's first hint from HINTS.md");
            File.Exists(Path.Combine(state, "board.json")).ShouldBeTrue("the companion keeps its state where KATA_STATE_DIR says");
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [NUnit.Framework.Test]
    public void The_dojo_leaderboard_is_plain_text_when_the_output_is_redirected()
    {
        var state = Directory.CreateTempSubdirectory("kata-e2e-").FullName;
        try
        {
            var boards = Path.Combine(state, "boards");
            Directory.CreateDirectory(boards);
            File.WriteAllText(Path.Combine(boards, "ada-and-alan.json"), JsonSerializer.Serialize(Recorded.Board("partial-01"), JsonOptions.Indented));
            File.WriteAllText(Path.Combine(boards, "grace-and-linus.json"), JsonSerializer.Serialize(Recorded.Board("stubs-01"), JsonOptions.Indented));

            var (exit, stdout, stderr) = RunCompanion(state, "dojo", boards, "--root", Repo.Root);

            exit.ShouldBe(0, stderr);
            stdout.ShouldContain("ada-and-alan");
            stdout.ShouldContain("grace-and-linus");
            stdout.IndexOf("ada-and-alan", StringComparison.Ordinal).ShouldBeLessThan(stdout.IndexOf("grace-and-linus", StringComparison.Ordinal), "the team with more points comes first");
            stdout.ShouldNotContain("\u001b", customMessage: "redirected output must carry no ANSI escape codes");
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>Runs the companion (Kata.Companion.dll, copied next to the tests) with a deadline; its state goes to <paramref name="state"/>.</summary>
    private static (int Exit, string Stdout, string Stderr) RunCompanion(string state, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Repo.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Kata.Companion.dll"));
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        // The test host runs inside `dotnet test`: the companion's own dotnet test must not inherit its build settings.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["KATA_STATE_DIR"] = state;
        info.Environment["NO_COLOR"] = "1";

        using var process = Process.Start(info).ShouldNotBeNull();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Deadline))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"kata {string.Join(' ', args)} did not finish within {Deadlines.Describe(Deadline)}; it was stopped. Its output so far: {stderr.Result}");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
