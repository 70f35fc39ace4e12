using System.Text.Json;
using ConcurrencyKata.Companion;
using Snapshooter;
using Snapshooter.NUnit;
using Spectre.Console;

namespace ConcurrencyKata.Tests.Companion;

/// <summary>
/// The rendered board, as a learner (or a projector) sees it, snapshotted in tests/Companion/__snapshots__ for recorded
/// runs. Rendered as plain text (no colour, no ANSI: what NO_COLOR or a redirected output gives), 100 columns wide.
/// A change to the board's look shows up in review; CI fails on a snapshot that was not committed.
/// </summary>
[TestFixture]
public sealed class SnapshotTests
{
    [TestCase("stubs-01")]
    [TestCase("partial-01")]
    [TestCase("aborted-01")]
    [TestCase("build-failed-01")]
    public void The_learner_board(string run) =>
        Match(console => Recorded.Renderer.Render(console, Recorded.Board(run)));

    [Test]
    public void The_learner_board_without_unicode() =>
        Match(console => Recorded.Renderer.Render(console, Recorded.Board("partial-01")), unicode: false);

    [Test]
    public void The_verify_board() =>
        Match(console => Recorded.Renderer.Render(console, BoardBuilder.Build(KataMode.Reference, Recorded.Exercises.Take(1).ToList(), Recorded.Read("reference-01")), showNext: false));

    [Test]
    public void The_dojo_projector_view() =>
        Match(console => BoardRenderer.RenderDojo(console, [("this repository", Recorded.Board("partial-01"))]));

    [Test]
    public void The_dojo_leaderboard() =>
        Match(console => BoardRenderer.RenderDojo(console, [("ada-and-alan", Recorded.Board("partial-01")), ("grace-and-linus", Recorded.Board("stubs-01")), ("edsger-and-tony", Recorded.Board("aborted-01"))]));

    [Test]
    public void The_learner_board_after_a_build_error_keeps_the_learners_step() =>
        Match(console => Recorded.Renderer.Render(console, BoardBuilder.Build(KataMode.Learner, Recorded.Exercises, Recorded.Read("build-failed-01"), Recorded.Hint, Recorded.Board("partial-01"))));

    [Test]
    public void The_dojo_views_fit_80_columns()
    {
        foreach (var teams in new[]
                 {
                     new[] { ("this repository", Recorded.Board("partial-01")) },
                     [("ada-and-alan", Recorded.Board("partial-01")), ("grace-and-linus-with-a-long-name", Recorded.Board("stubs-01")), ("edsger-and-tony", OnlyExercise01(Recorded.Board("aborted-01")))],
                 })
        {
            // Rendered wider than needed, so that nothing is wrapped: every line must still fit 80 columns (the title
            // rule is the one line that stretches to any width).
            var lines = Render(console => BoardRenderer.RenderDojo(console, teams), width: 200);
            lines.Where(l => l.Length > 80 && !l.StartsWith("──", StringComparison.Ordinal)).ShouldBeEmpty("a projector terminal is 80 columns wide");
        }
    }

    [Test]
    public void The_dojo_leaderboard_says_which_boards_cover_fewer_exercises()
    {
        var whole = Recorded.Board("partial-01");
        whole = whole with { Exercises = [.. whole.Exercises.Select(e => e with { State = ExerciseState.Ran })] };

        Match(console => BoardRenderer.RenderDojo(console, [("ada-and-alan", whole), ("only-01", OnlyExercise01(Recorded.Board("partial-01")))]));
    }

    [Test]
    public void The_JSON_board()
    {
        var json = JsonSerializer.Serialize(Recorded.Board("partial-01"), JsonOptions.Indented);

        Snapshot.Match(json.Split('\n').Select(l => l.TrimEnd('\r')).ToArray());
    }

    [Test]
    public void The_JSON_board_reads_back_for_the_dojo_leaderboard()
    {
        var board = Recorded.Board("partial-01");

        var back = JsonSerializer.Deserialize<Board>(JsonSerializer.Serialize(board, JsonOptions.Indented), JsonOptions.Indented);

        back.ShouldNotBeNull();
        back.Points.ShouldBe(board.Points);
        back.StepsDone.ShouldBe(board.StepsDone);
        JsonSerializer.Serialize(back.Next, JsonOptions.Indented).ShouldBe(JsonSerializer.Serialize(board.Next, JsonOptions.Indented));
        back.Next.ShouldNotBeNull().Failures.ShouldNotBeEmpty("the diagnoses travel with the board");
        back.Exercises.Select(e => e.Steps.Count).ShouldBe(board.Exercises.Select(e => e.Steps.Count));
    }

    /// <summary>A board saved with <c>progress -e 01</c>: only exercise 01 is on it.</summary>
    private static Board OnlyExercise01(Board board) => board with { Exercises = [.. board.Exercises.Where(e => e.Number == "01")] };

    /// <summary>Renders into a plain 100-column console and matches the lines (trailing spaces trimmed).</summary>
    private static void Match(Action<IAnsiConsole> render, bool unicode = true)
    {
        var lines = Render(render, unicode: unicode);
        Snapshot.Match(lines);
    }

    /// <summary>Renders into a plain console of <paramref name="width"/> columns (no colour, no ANSI).</summary>
    private static string[] Render(Action<IAnsiConsole> render, bool unicode = true, int width = 100)
    {
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = width;
        console.Profile.Capabilities.Unicode = unicode;

        render(console);

        var lines = writer.ToString().Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l.TrimEnd()).ToArray();
        lines.ShouldNotContain(l => l.Contains('\u001b'), "a plain console must get no ANSI escape codes");
        return lines;
    }
}
