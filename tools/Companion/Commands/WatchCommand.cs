using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

/// <summary>Options of <c>kata watch</c>.</summary>
internal sealed class WatchSettings : KataSettings
{
    [CommandArgument(0, "[EXERCISE]")]
    [Description("The exercise to watch (default: the one you are working on, from the last board).")]
    public string? Exercise { get; init; }

    [CommandOption("--all")]
    [Description("Run every step's tests on each save, not just your current step and the ones before it.")]
    public bool All { get; init; }

    [CommandOption("--poll")]
    [Description("Look for changes by scanning file times instead of file-system events (WSL /mnt, network drives, some containers). Automatic on WSL under /mnt.")]
    public bool Poll { get; init; }

    [CommandOption("--interval <MS>")]
    [Description("With --poll: how often to scan, in milliseconds (default 500).")]
    [DefaultValue(500)]
    public int IntervalMs { get; init; } = 500;

    [CommandOption("--manual")]
    [Description("Do not watch files: run the tests each time you press Enter (q then Enter quits).")]
    public bool Manual { get; init; }

    [CommandOption("--measure <SAVES>")]
    [Description("Measure the loop: after the first run, save a file of the exercise SAVES times (same content) and report the median save -> result time.")]
    public int? Measure { get; init; }
}

/// <summary>
/// <c>kata watch [exercise]</c>: re-runs one exercise's tests whenever its files change. It runs the tests a learner
/// needs now: the current step (the first one not done) and the ones before it; when they all pass it goes on to the
/// next step at once. <c>--all</c> runs every step. The loop is fast because it builds only that exercise's test
/// project without restoring, skips the Coyote rewrite while the systematic step is not in scope, and runs the built
/// test assembly directly (no second MSBuild evaluation); MSBuild's nodes and the compiler server stay warm.
/// </summary>
internal sealed class WatchCommand : Command<WatchSettings>
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);

    public override int Execute(CommandContext context, WatchSettings settings, CancellationToken cancellationToken)
    {
        var renderer = new BoardRenderer((Invocation)context.Data!);
        var repo = settings.Repo();
        var saved = BoardRuns.Load(repo);
        var exercise = settings.Exercise is not null ? repo.Resolve(settings.Exercise)
            : saved?.Next is { } last ? repo.Resolve(last.Exercise)
            : repo.Exercises.Count > 0 ? repo.Exercises[0] : throw new KataException("No exercise found under exercises/.");
        var poll = settings.Poll || OnWslWindowsDrive(repo.Root);
        var how = settings.Manual ? "press Enter to run the tests, q then Enter to quit"
            : poll ? $"polling every {settings.IntervalMs} ms for changes; Ctrl+C quits"
            : "watching for changes; Ctrl+C quits";
        BoardRuns.Note($"kata watch: exercises/{exercise.Id}/ ({how}).");

        using var changes = new ChangeSignal();
        using var watcher = settings.Manual || poll ? null : StartWatcher(exercise.Directory, changes);
        using var poller = !settings.Manual && poll ? new Poller(exercise.Directory, changes, TimeSpan.FromMilliseconds(Math.Max(100, settings.IntervalMs))) : null;

        using var quit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (settings.Manual)
        {
            // Enter runs the tests, q (or the end of input) quits; read on a dedicated thread so that Ctrl+C still works.
            new Thread(() =>
            {
                string? line;
                while ((line = Console.ReadLine()) is not null && !line.Trim().Equals("q", StringComparison.OrdinalIgnoreCase))
                {
                    changes.Set();
                }

                quit.Cancel();
            })
            { IsBackground = true, Name = "kata watch input" }.Start();
        }

        // The current step: from the last board if it knows this exercise; otherwise the first run finds it.
        int? current = settings.All ? null : CurrentStep(saved?.Exercises.FirstOrDefault(e => e.Id == exercise.Id));
        var firstRun = true;
        DateTime? savedAt = null;
        var measured = new List<TimeSpan>();
        while (!quit.IsCancellationRequested)
        {
            var clock = Stopwatch.StartNew();
            var board = RunOnce(renderer, repo, exercise, settings, firstRun, current, settings.Manual ? null : savedAt, clock, quit.Token);
            if (savedAt is { } at && !firstRun)
            {
                measured.Add(DateTime.UtcNow - at);
            }

            firstRun = false;
            if (board is not null && !settings.All)
            {
                var row = board.Exercises.FirstOrDefault(e => e.Id == exercise.Id);
                var next = CurrentStep(row);
                if (row?.State == ExerciseState.Ran && next is not null && (current is null || next > current))
                {
                    // Every step so far passes: go on to the next one now, not at the next save.
                    var advanced = current is not null;
                    current = next;
                    if (advanced)
                    {
                        AnsiConsole.MarkupLine($"[green]Steps 1-{next - 1} pass.[/] Running Step {next}'s tests too...");
                        continue;
                    }
                }
            }

            if (settings.Measure is { } saves)
            {
                if (measured.Count >= saves)
                {
                    Save(exercise, null);
                    ReportMeasure(exercise, current, measured);
                    return 0;
                }

                Save(exercise, measured.Count + 1);
            }

            savedAt = changes.WaitForChange(settings.Manual ? TimeSpan.Zero : Quiet, quit.Token);
        }

        return 0;
    }

    /// <summary>The comment <c>--measure</c> appends to a file to make a save.</summary>
    private const string MeasureMark = "// kata watch --measure: save ";

    /// <summary>
    /// What <c>--measure</c> does for a learner's save: rewrites the exercise's largest source file with a numbered
    /// comment at its end, a real change (the compiled assembly differs, so everything a real edit costs is paid: the
    /// compile, the copies, the Coyote rewrite); <paramref name="save"/> null puts the file back as it was.
    /// </summary>
    private static void Save(ExerciseInfo exercise, int? save)
    {
        var file = Directory.EnumerateFiles(exercise.Directory, "*.cs", SearchOption.AllDirectories)
            .Where(f => IsSource(exercise.Directory, f))
            .OrderByDescending(f => new FileInfo(f).Length)
            .First();
        var text = File.ReadAllText(file);
        var mark = text.IndexOf(MeasureMark, StringComparison.Ordinal);
        var original = mark < 0 ? text : text[..mark];
        File.WriteAllText(file, save is { } n ? original + MeasureMark + n.ToString(CultureInfo.InvariantCulture) + Environment.NewLine : original);
    }

    /// <summary>One line a script can collect: "loop: 01 Step 2: median 6.2 s over 5 saves (min 6.0 s, max 6.9 s)".</summary>
    private static void ReportMeasure(ExerciseInfo exercise, int? current, List<TimeSpan> measured)
    {
        var sorted = measured.Select(t => t.TotalSeconds).Order().ToList();
        var median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
        string S(double s) => s.ToString("0.0", CultureInfo.InvariantCulture);
        Console.Out.WriteLine($"loop: {exercise.Number} Step {(current is { } c ? c.ToString(CultureInfo.InvariantCulture) : "all")}: median {S(median)} s over {sorted.Count} saves (min {S(sorted[0])} s, max {S(sorted[^1])} s)");
    }

    /// <summary>The first step not done of an exercise's row, if it ran; null when every step is done or nothing is known.</summary>
    private static int? CurrentStep(ExerciseProgress? row) =>
        row is null || row.Steps.Count == 0 ? null : row.Steps.FirstOrDefault(s => s.Number > 0 && s.State != StepState.Done)?.Number;

    private static Board? RunOnce(BoardRenderer renderer, KataRepo repo, ExerciseInfo exercise, WatchSettings settings, bool firstRun, int? current, DateTime? savedAt, Stopwatch clock, CancellationToken cancel)
    {
        var console = AnsiConsole.Console;
        if (!firstRun && console.Profile.Capabilities.Interactive)
        {
            console.Clear();
        }

        // The first run is a plain dotnet test of the whole exercise, which restores: packages may have changed since
        // the last restore (a git pull). Later runs skip the restore and run only the steps in scope.
        List<int>? steps = firstRun || current is null ? null : exercise.Steps.Select(s => s.Number).Where(n => n <= current).ToList();
        Board board;
        RunOutcome outcome;
        try
        {
            (board, outcome) = BoardRuns.Run(repo, settings, new TestSelection(KataMode.Learner, [exercise], steps, Fast: !firstRun), cancel);
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        renderer.Render(console, board);
        var total = savedAt is { } at ? DateTime.UtcNow - at : clock.Elapsed;
        console.WriteLine();
        var scope = steps is null ? "every step" : steps.Count == 1 ? "Step 1" : $"Steps 1-{steps[^1]}";
        console.MarkupLine(
            $"[grey]{(savedAt is null ? "run" : "saved -> result")}: {Seconds(total)} s " +
            $"(build {Seconds(outcome.Build)} s, tests {Seconds(outcome.Test)} s; {scope}{(steps is null ? "" : "; --all runs every step")}) at {DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}[/]");
        return board;
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);

    private static FileSystemWatcher StartWatcher(string directory, ChangeSignal changes)
    {
        var watcher = new FileSystemWatcher(directory)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        watcher.Changed += (_, e) => Signal(e.FullPath);
        watcher.Created += (_, e) => Signal(e.FullPath);
        watcher.Deleted += (_, e) => Signal(e.FullPath);
        watcher.Renamed += (_, e) => Signal(e.FullPath);
        watcher.EnableRaisingEvents = true;
        return watcher;

        void Signal(string path)
        {
            if (IsSource(directory, path))
            {
                changes.Set();
            }
        }
    }

    /// <summary>A change worth a run: not under bin/ or obj/, not an editor's swap or backup file.</summary>
    internal static bool IsSource(string root, string path)
    {
        var relative = Path.GetRelativePath(root, path).Replace('\\', '/');
        var parts = relative.Split('/');
        if (parts.Any(p => p is "bin" or "obj" or ".vs" or ".idea" || p.StartsWith('.')))
        {
            return false;
        }

        var name = parts[^1];
        return !(name.EndsWith('~') || name.EndsWith(".swp", StringComparison.Ordinal) || name.EndsWith(".tmp", StringComparison.OrdinalIgnoreCase)
                 || name.StartsWith(".#", StringComparison.Ordinal) || name.StartsWith("4913", StringComparison.Ordinal));
    }

    private static bool OnWslWindowsDrive(string root)
    {
        try
        {
            return OperatingSystem.IsLinux() && root.StartsWith("/mnt/", StringComparison.Ordinal)
                && File.ReadAllText("/proc/version").Contains("microsoft", StringComparison.OrdinalIgnoreCase);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Change notifications, debounced: a burst of saves becomes one run.</summary>
    private sealed class ChangeSignal : IDisposable
    {
        private readonly object _sync = new();
        private DateTime? _first;   // guarded by _sync: the first change not yet handled
        private DateTime _last;     // guarded by _sync: the latest change

        public void Set()
        {
            lock (_sync)
            {
                var now = DateTime.UtcNow;
                _first ??= now;
                _last = now;
                Monitor.PulseAll(_sync);
            }
        }

        /// <summary>Waits for a change followed by <paramref name="quiet"/> without another; returns the first change's time.</summary>
        public DateTime? WaitForChange(TimeSpan quiet, CancellationToken cancel)
        {
            using var registration = cancel.Register(() =>
            {
                lock (_sync)
                {
                    Monitor.PulseAll(_sync);
                }
            });
            lock (_sync)
            {
                while (!cancel.IsCancellationRequested)
                {
                    if (_first is null)
                    {
                        Monitor.Wait(_sync);
                        continue;
                    }

                    var wait = _last + quiet - DateTime.UtcNow;
                    if (wait > TimeSpan.Zero)
                    {
                        Monitor.Wait(_sync, wait);
                        continue;
                    }

                    var first = _first;
                    _first = null;
                    return first;
                }

                return null;
            }
        }

        public void Dispose()
        {
        }
    }

    /// <summary>The polling fallback: scans file times and sizes (bin/ and obj/ excluded) on a dedicated thread.</summary>
    private sealed class Poller : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;

        public Poller(string directory, ChangeSignal changes, TimeSpan interval)
        {
            var before = Scan(directory);
            _thread = new Thread(() =>
            {
                while (!_stop.Token.WaitHandle.WaitOne(interval))
                {
                    var now = Scan(directory);
                    if (!now.SetEquals(before))
                    {
                        before = now;
                        changes.Set();
                    }
                }
            })
            { IsBackground = true, Name = "kata watch poller" };
            _thread.Start();
        }

        public void Dispose()
        {
            _stop.Cancel();
            _thread.Join();
            _stop.Dispose();
        }

        private static HashSet<string> Scan(string directory)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
            {
                if (IsSource(directory, file))
                {
                    var info = new FileInfo(file);
                    seen.Add($"{file}|{info.LastWriteTimeUtc.Ticks}|{info.Length}");
                }
            }

            return seen;
        }
    }
}
