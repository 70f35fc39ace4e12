using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ConcurrencyKata.Companion;

/// <summary>
/// Draws the board with Spectre.Console. Colour and ANSI codes come from the console's profile: none when NO_COLOR is
/// set or the output is redirected, so a piped or logged board is plain text.
/// </summary>
/// <param name="invocation">How the learner runs the companion, for the commands the board suggests.</param>
internal sealed class BoardRenderer(Invocation invocation)
{
    private const int BarWidth = 30;

    /// <summary>The command that runs the companion, as the board suggests it.</summary>
    private string Command => invocation.Command;

    /// <summary>The learner's board: every exercise with its steps, the overall bar, and the next step with its hint.</summary>
    public void Render(IAnsiConsole console, Board board, bool showNext = true)
    {
        var unicode = console.Profile.Capabilities.Unicode;
        var mode = board.Mode == KataMode.Reference ? "reference mode (solutions/)" : "learner mode (exercises/)";
        console.MarkupLine($"[bold]Concurrency.Kata[/] - {Markup.Escape(mode)}");
        console.WriteLine();

        // One grid per exercise, so that an exercise's problems can use the full width below it; fixed column
        // widths keep the exercises aligned with each other.
        var labelWidth = board.Exercises.SelectMany(e => e.Steps.Select(s => StepLabel(s).Length + 4).Append(e.Title.Length)).DefaultIfEmpty(10).Max();
        var statusWidth = board.Exercises.SelectMany(e => e.Steps.Select(s => StepStatusText(s).Length).Append(ExerciseStatusText(e).Length)).DefaultIfEmpty(8).Max();
        foreach (var exercise in board.Exercises)
        {
            var grid = new Grid();
            grid.AddColumn(new GridColumn().NoWrap().Width(2).PadRight(1));
            grid.AddColumn(new GridColumn().NoWrap().Width(labelWidth).PadRight(2));
            grid.AddColumn(new GridColumn().NoWrap().Width(statusWidth).PadRight(2));
            grid.AddColumn(new GridColumn().NoWrap().RightAligned());
            grid.AddRow(
                new Markup($"[bold]{exercise.Number}[/]"),
                new Markup($"[bold]{Markup.Escape(exercise.Title)}[/]"),
                new Markup(ExerciseStatus(exercise)),
                new Markup(ExercisePoints(exercise)));
            foreach (var step in exercise.Steps)
            {
                grid.AddRow(
                    new Text(""),
                    new Markup($"{Symbol(step.State, unicode)} {Markup.Escape(StepLabel(step))}"),
                    new Markup(StepStatus(step)),
                    new Text(step.State == StepState.Done ? $"+{step.Points}" : ""));
            }

            console.Write(grid);
            foreach (var problem in exercise.Problems.Take(5))
            {
                console.Write(new Padder(new Markup($"[red]! {Markup.Escape(problem)}[/]"), new Padding(3, 0, 0, 0)));
            }

            if (exercise.Problems.Count > 5)
            {
                console.Write(new Padder(new Text($"! ... and {exercise.Problems.Count - 5} more"), new Padding(3, 0, 0, 0)));
            }
        }

        foreach (var problem in board.Problems.Take(8))
        {
            console.MarkupLine($"[red]! {Markup.Escape(problem)}[/]");
        }

        console.WriteLine();
        console.Write(ProgressLine(board, unicode));
        console.WriteLine();

        if (showNext)
        {
            RenderNext(console, board);
        }
    }

    /// <summary>The next step to work on, its first failing test, and the hint to start from.</summary>
    public void RenderNext(IAnsiConsole console, Board board)
    {
        console.WriteLine();
        var next = board.Next;
        if (next is null)
        {
            if (board.Exercises.Count > 0 && board.Exercises.All(e => e.Done))
            {
                console.MarkupLine("[green bold]Every step of every exercise passes. Well done![/] Compare with solutions/ and read catalog/ for the classic mistakes.");
            }
            else
            {
                console.MarkupLine($"No step to suggest: no exercise's tests ran. Run [bold]{Markup.Escape(Command)} progress[/] (or dotnet test) and read the errors above.");
            }

            return;
        }

        if (next.FixBuildFirst)
        {
            console.MarkupLine($"[red bold]Fix the build first[/] (the errors are above). You were on exercise {next.Number}, [bold]Step {next.Step}: {Markup.Escape(next.Title)}[/].");
        }
        else
        {
            console.MarkupLine($"[bold]Next:[/] exercise {next.Number}, [bold]Step {next.Step}: {Markup.Escape(next.Title)}[/]");
        }

        Indented(console, $"Read: exercises/{Markup.Escape(next.Exercise)}/README.md, section \"Step {next.Step}\"");
        if (!next.FixBuildFirst && next.Failures.Count > 0)
        {
            Indented(console, next.Failures.Count == 1 ? "[bold]What the test says:[/]" : "[bold]What the tests say:[/]");
            foreach (var failure in next.Failures)
            {
                console.Write(new Padder(new Markup($"[bold]{Markup.Escape(failure.Test)}[/]: {Markup.Escape(failure.Text)}"), new Padding(4, 0, 0, 0)));
            }
        }

        if (next.Hint is not null)
        {
            Indented(console, $"[bold]Hint 1 of {next.HintCount} for Step {next.Step}:[/]");
            WriteHint(console, next.Hint, 4);
            if (next.HintCount > 1)
            {
                Indented(console, $"Stuck? [bold]{Markup.Escape(Command)} hint {next.Number}[/] shows the next hint for your current step (one more each time).");
            }
        }

        Indented(console, $"This step only: dotnet test tests/{Markup.Escape(next.Exercise)} --filter TestCategory=Step{next.Step}");
        Indented(console, $"On every save: [bold]{Markup.Escape(Command)} watch {next.Number}[/]");
    }

    /// <summary>A line indented by two, wrapped (and still indented) when it is wider than the console.</summary>
    private static void Indented(IAnsiConsole console, string markup) =>
        console.Write(new Padder(new Markup(markup), new Padding(2, 0, 0, 0)));

    /// <summary>
    /// The projector view: one bar per exercise and the overall bar; or, for several teams' boards, a leaderboard.
    /// Both fit an 80-column terminal. A team's board that covers fewer exercises than the others (saved with
    /// <c>progress -e 01</c>) says which it covers, so that its points are not read as a whole kata's.
    /// </summary>
    public static void RenderDojo(IAnsiConsole console, IReadOnlyList<(string Team, Board Board)> teams)
    {
        var unicode = console.Profile.Capabilities.Unicode;
        console.Write(new Rule("[bold]Concurrency.Kata dojo[/]").LeftJustified());
        console.WriteLine();
        if (teams.Count == 1)
        {
            var board = teams[0].Board;
            var grid = new Grid();
            grid.AddColumn(new GridColumn().NoWrap().Width(30).PadRight(1));
            grid.AddColumn(new GridColumn().NoWrap().PadRight(1));
            grid.AddColumn(new GridColumn().NoWrap().PadRight(1));
            grid.AddColumn(new GridColumn().NoWrap());
            foreach (var e in board.Exercises)
            {
                var done = e.Steps.Count(s => s.State == StepState.Done);
                grid.AddRow(
                    new Markup($"[bold]{e.Number} {Markup.Escape(Fit(e.Title, 27))}[/]"),
                    new Text(Bar(e.Steps.Count == 0 ? 0 : (double)done / e.Steps.Count, 12, unicode)),
                    new Text($"{done}/{e.Steps.Count}"),
                    new Text(e.State == ExerciseState.Ran ? StepsLine(e, unicode) : ExercisePlain(e)));
            }

            console.Write(grid);
            console.WriteLine();
            console.Write(ProgressLine(board, unicode, 20));
            console.WriteLine();
            if (board.Next is { } next)
            {
                console.MarkupLine($"[bold]Now:[/] exercise {next.Number}, Step {next.Step}: {Markup.Escape(Fit(next.Title, 50))}");
            }

            return;
        }

        var most = teams.Max(t => t.Board.Exercises.Count(e => e.Covered));
        var table = new Table().Border(unicode ? TableBorder.Rounded : TableBorder.Ascii);
        table.AddColumn("#");
        table.AddColumn("team");
        table.AddColumn(new TableColumn("points").RightAligned());
        table.AddColumn("progress");
        table.AddColumn(new TableColumn("steps").RightAligned());
        table.AddColumn("working on");
        var rank = 0;
        foreach (var (team, board) in teams.OrderByDescending(t => t.Board.Points).ThenByDescending(t => t.Board.StepsDone).ThenBy(t => t.Team, StringComparer.Ordinal))
        {
            rank++;
            var fraction = board.StepCount == 0 ? 0 : (double)board.StepsDone / board.StepCount;
            var covered = board.Exercises.Where(e => e.Covered).Select(e => e.Number).ToList();
            var teamCell = Markup.Escape(Fit(team, 16));
            if (covered.Count < most)
            {
                teamCell += $"\n[grey]only {Markup.Escape(string.Join(", ", covered))}[/]";
            }

            table.AddRow(
                new Text(rank.ToString(CultureInfo.InvariantCulture)),
                new Markup($"[bold]{teamCell}[/]"),
                new Text(board.Points.ToString(CultureInfo.InvariantCulture)),
                new Text(Bar(fraction, 10, unicode)),
                new Text($"{board.StepsDone}/{board.StepCount}"),
                new Text(board.Next is { } n ? Fit($"{n.Number} Step {n.Step}: {n.Title}", 22) : board.Exercises.All(e => e.Done) ? "all done" : "-"));
        }

        console.Write(table);
        if (teams.Any(t => t.Board.Exercises.Count(e => e.Covered) < most))
        {
            console.MarkupLine("[grey]\"only …\": that team's board covers fewer exercises (saved with progress -e); its points are for those only.[/]");
        }
    }

    /// <summary><paramref name="text"/>, cut with an ellipsis to at most <paramref name="width"/> characters.</summary>
    private static string Fit(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";

    /// <summary>
    /// Writes a hint's markdown indented: paragraphs are re-flowed to the console's width, code blocks keep their
    /// lines (their fences are dropped).
    /// </summary>
    public static void WriteHint(IAnsiConsole console, string markdown, int indent)
    {
        var first = true;
        foreach (var (text, code) in HintBlocks(markdown))
        {
            if (!first)
            {
                console.WriteLine();
            }

            first = false;
            console.Write(new Padder(new Text(text), new Padding(indent + (code ? 2 : 0), 0, 0, 0)));
        }
    }

    /// <summary>A hint's blocks: paragraphs as one line each, code blocks as they are; blank lines between them.</summary>
    public static IEnumerable<(string Text, bool Code)> HintBlocks(string markdown)
    {
        var paragraph = new List<string>();
        var code = new List<string>();
        var inCode = false;
        var blocks = new List<(string, bool)>();
        foreach (var raw in markdown.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                if (inCode)
                {
                    blocks.Add((string.Join('\n', code), true));
                    code.Clear();
                }
                else
                {
                    Flush();
                }

                inCode = !inCode;
                continue;
            }

            if (inCode)
            {
                code.Add(line);
            }
            else if (line.Length == 0)
            {
                Flush();
            }
            else
            {
                paragraph.Add(line.Trim());
            }
        }

        Flush();
        if (code.Count > 0)
        {
            blocks.Add((string.Join('\n', code), true));
        }

        return blocks;

        void Flush()
        {
            if (paragraph.Count > 0)
            {
                blocks.Add((string.Join(' ', paragraph), false));
                paragraph.Clear();
            }
        }
    }

    /// <summary>A bar of <paramref name="width"/> cells, <paramref name="fraction"/> of them full.</summary>
    public static string Bar(double fraction, int width, bool unicode)
    {
        var full = (int)Math.Round(Math.Clamp(fraction, 0, 1) * width, MidpointRounding.AwayFromZero);
        return unicode
            ? new string('█', full) + new string('░', width - full)
            : "[" + new string('#', full) + new string('.', width - full) + "]";
    }

    /// <summary>The overall bar: the share of steps done (a step is done when all its tests pass), and the points.</summary>
    private static Markup ProgressLine(Board board, bool unicode, int width = BarWidth)
    {
        var fraction = board.StepCount == 0 ? 0 : (double)board.StepsDone / board.StepCount;
        var percent = (int)Math.Floor(fraction * 100);
        return new Markup(
            $"[bold]Progress[/] {Markup.Escape(Bar(fraction, width, unicode))} {percent}%  " +
            $"{board.StepsDone}/{board.StepCount} steps done, {board.Points} points");
    }

    private static string StepsLine(ExerciseProgress e, bool unicode) =>
        string.Join(" ", e.Steps.Where(s => s.Number > 0).Select(s => Symbol(s.State, unicode, markup: false)));

    private static string Symbol(StepState state, bool unicode, bool markup = true)
    {
        var (glyph, ascii, colour) = state switch
        {
            StepState.Done => ("✔", "[x]", "green"),
            StepState.InProgress => ("◐", "[~]", "yellow"),
            StepState.NotStarted => ("·", "[ ]", "grey"),
            _ => ("-", "[-]", "grey"),
        };
        var text = unicode ? glyph : ascii;
        return markup ? $"[{colour}]{Markup.Escape(text)}[/]" : text;
    }

    private static string StepLabel(StepProgress step) => step.Number == 0 ? step.Title : $"Step {step.Number}: {step.Title}";

    private static string StepStatus(StepProgress step) => step.State switch
    {
        StepState.Done => $"[green]{Markup.Escape(StepStatusText(step))}[/]",
        StepState.InProgress => $"[yellow]{Markup.Escape(StepStatusText(step))}[/]",
        _ => $"[grey]{Markup.Escape(StepStatusText(step))}[/]",
    };

    private static string StepStatusText(StepProgress step) => step.State switch
    {
        StepState.Done or StepState.InProgress => $"{step.Passed}/{step.Tests} passed",
        StepState.NotStarted => $"not started (0/{step.Tests})",
        _ => "not run",
    };

    private static string ExerciseStatus(ExerciseProgress e) => e.State switch
    {
        ExerciseState.BuildFailed or ExerciseState.Aborted => $"[red]{ExerciseStatusText(e)}[/]",
        ExerciseState.NotRun => $"[grey]{ExerciseStatusText(e)}[/]",
        _ when e.Done => $"[green]{ExerciseStatusText(e)}[/]",
        _ => "",
    };

    private static string ExerciseStatusText(ExerciseProgress e) => e.State switch
    {
        ExerciseState.BuildFailed => "build failed",
        ExerciseState.Aborted => "run aborted",
        ExerciseState.NotRun => "not run",
        _ when e.Done => "done",
        _ => "",
    };

    /// <summary>"12/44 pts" when every step ran; "12 pts" when some did not (their tests are unknown).</summary>
    private static string ExercisePoints(ExerciseProgress e) =>
        e.State == ExerciseState.NotRun ? ""
        : e.Steps.Any(s => s.State == StepState.NotRun) ? $"{e.Points} pts"
        : $"{e.Points}/{e.MaxPoints} pts";

    private static string ExercisePlain(ExerciseProgress e) => e.State switch
    {
        ExerciseState.BuildFailed => "build failed",
        ExerciseState.Aborted => "run aborted",
        _ => "not run",
    };

}
