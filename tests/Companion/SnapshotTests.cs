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
        Match(console => BoardRenderer.Render(console, Recorded.Board(run)));

    [Test]
    public void The_learner_board_without_unicode() =>
        Match(console => BoardRenderer.Render(console, Recorded.Board("partial-01")), unicode: false);

    [Test]
    public void The_verify_board() =>
        Match(console => BoardRenderer.Render(console, BoardBuilder.Build("reference", Recorded.Exercises.Take(1).ToList(), Recorded.Read("reference-01")), showNext: false));

    [Test]
    public void The_dojo_projector_view() =>
        Match(console => BoardRenderer.RenderDojo(console, [("this repository", Recorded.Board("partial-01"))]));

    [Test]
    public void The_dojo_leaderboard() =>
        Match(console => BoardRenderer.RenderDojo(console, [("ada-and-alan", Recorded.Board("partial-01")), ("grace-and-linus", Recorded.Board("stubs-01")), ("edsger-and-tony", Recorded.Board("aborted-01"))]));

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
        back.Next.ShouldBe(board.Next);
        back.Exercises.Select(e => e.Steps.Count).ShouldBe(board.Exercises.Select(e => e.Steps.Count));
    }

    /// <summary>Renders into a plain 100-column console and matches the lines (trailing spaces trimmed).</summary>
    private static void Match(Action<IAnsiConsole> render, bool unicode = true)
    {
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 100;
        console.Profile.Capabilities.Unicode = unicode;

        render(console);

        var lines = writer.ToString().Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l.TrimEnd()).ToArray();
        lines.ShouldNotContain(l => l.Contains('\u001b'), "a plain console must get no ANSI escape codes");
        Snapshot.Match(lines);
    }
}
