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

    [CommandOption("--strategy <STRATEGY>", IsHidden = true)]
    [Description("How to run the tests: BuildThenDll (default), BuildThenTest or Test (for measuring the loop).")]
    public FastStrategy Strategy { get; init; } = FastStrategy.BuildThenDll;

    [CommandOption("--once")]
    [Description("Run once, as the watch loop does, and exit (used to measure the loop).")]
    public bool Once { get; init; }
}

/// <summary>
/// <c>kata watch [exercise]</c>: re-runs one exercise's tests whenever its files change. The loop is made fast by
/// building only that exercise's test project without restoring (<c>dotnet build --no-restore</c>), then running
/// the built test assembly (<c>dotnet test WorkQueue.Tests.dll</c>, no second MSBuild evaluation); MSBuild's nodes
/// and the compiler server stay warm between runs.
/// </summary>
internal sealed class WatchCommand : Command<WatchSettings>
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);

    public override int Execute(CommandContext context, WatchSettings settings, CancellationToken cancellationToken)
    {
        var repo = Companion.Repo(settings);
        var exercise = settings.Exercise is not null ? repo.Resolve(settings.Exercise)
            : Companion.LoadBoard(repo)?.Next is { } next ? repo.Resolve(next.Exercise)
            : repo.Exercises.Count > 0 ? repo.Exercises[0] : throw new KataException("No exercise found under exercises/.");
        var poll = settings.Poll || OnWslWindowsDrive(repo.Root);
        var how = settings.Manual ? "press Enter to run the tests, q then Enter to quit"
            : poll ? $"polling every {settings.IntervalMs} ms for changes; Ctrl+C quits"
            : "watching for changes; Ctrl+C quits";
        Companion.Note($"kata watch: exercises/{exercise.Id}/ ({how}).");

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

        var firstRun = true;
        DateTime? savedAt = null;
        while (!quit.IsCancellationRequested)
        {
            var clock = Stopwatch.StartNew();
            RunOnce(repo, exercise, settings, firstRun, settings.Manual ? null : savedAt, clock, quit.Token);
            firstRun = false;
            if (settings.Once)
            {
                return 0;
            }

            savedAt = changes.WaitForChange(settings.Manual ? TimeSpan.Zero : Quiet, quit.Token);
        }

        return 0;
    }

    private static void RunOnce(KataRepo repo, ExerciseInfo exercise, WatchSettings settings, bool firstRun, DateTime? savedAt, Stopwatch clock, CancellationToken cancel)
    {
        var console = AnsiConsole.Console;
        if (!firstRun && console.Profile.Capabilities.Interactive)
        {
            console.Clear();
        }

        Board board;
        RunOutcome outcome;
        try
        {
            // The first run is a plain dotnet test, which restores: packages may have changed since the last restore
            // (a git pull). Every later run skips the restore, which is where the fast loop gets its speed.
            (board, outcome) = Companion.RunBoard(repo, settings, KataMode.Learner, exercise.Id, fast: firstRun ? null : settings.Strategy, cancel: cancel);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        BoardRenderer.Render(console, board);
        var total = savedAt is { } at ? DateTime.UtcNow - at : clock.Elapsed;
        console.WriteLine();
        console.MarkupLine(
            $"[grey]{(savedAt is null ? "run" : "saved -> result")}: {Seconds(total)} s " +
            $"(build {Seconds(outcome.Build)} s, tests {Seconds(outcome.Test)} s) at {DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}[/]");
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
