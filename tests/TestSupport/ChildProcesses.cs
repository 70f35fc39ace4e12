using System.Diagnostics;
using System.Globalization;

namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Keeps track of the OS processes a test starts, directly or through learner code (a pool's workers), and makes
/// sure none outlives its test (docs/testing.md, rule 14): at tear-down, <see cref="AssertNoneLeftRunning"/>
/// kills every leftover and fails the test that leaked it. A leaked worker would otherwise burn a core for the rest
/// of the run, or be left on the learner's machine.
/// </summary>
/// <remarks>
/// A process is recorded with its start time, so that a process id the OS has since reused for another program is
/// never mistaken for the recorded process (and never killed). On Linux, the tear-down check also finds child
/// processes of the test host that nobody recorded (a pool that hides a worker from its process-id list); on other
/// systems it checks the recorded ones only.
/// </remarks>
public static class ChildProcesses
{
    /// <summary>The lock protecting <see cref="s_tracked"/>.</summary>
    private static readonly object s_lock = new();

    /// <summary>Every process recorded, with the id of the test that recorded it. Guarded by <see cref="s_lock"/>.</summary>
    private static readonly List<Tracked> s_tracked = [];

    /// <summary>Records process <paramref name="processId"/> for the current test, if it is running. Recording the
    /// same process again does nothing.</summary>
    /// <param name="processId">The process id, e.g. one of a pool's worker ids.</param>
    /// <param name="what">What it is, for messages, e.g. "worker".</param>
    public static void Track(int processId, string what = "process")
    {
        long? started = StartStampOf(processId);
        if (started is null)
        {
            return; // already gone: nothing can leak
        }

        string testId = TestContext.CurrentContext.Test.ID;
        lock (s_lock)
        {
            if (!s_tracked.Exists(t => t.ProcessId == processId && t.Started == started))
            {
                s_tracked.Add(new Tracked(testId, processId, started.Value, what));
            }
        }
    }

    /// <summary>Records every process id in <paramref name="processIds"/> (see <see cref="Track(int, string)"/>).</summary>
    public static void TrackAll(IEnumerable<int> processIds, string what = "process")
    {
        ArgumentNullException.ThrowIfNull(processIds);
        foreach (int processId in processIds)
        {
            Track(processId, what);
        }
    }

    /// <summary>Whether process <paramref name="processId"/> is running (a zombie, dead but not yet reaped by its
    /// parent, counts as not running).</summary>
    public static bool IsRunning(int processId) => StartStampOf(processId) is not null;

    /// <summary>The process ids of the test host's running child processes. Linux only; empty elsewhere.</summary>
    public static IReadOnlyList<int> RunningChildren()
    {
        if (!OperatingSystem.IsLinux())
        {
            return [];
        }

        int self = Environment.ProcessId;
        var children = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) &&
                ReadStat(pid) is { } stat && stat.ParentId == self && stat.State != 'Z' && stat.State != 'X')
            {
                children.Add(pid);
            }
        }

        return children;
    }

    /// <summary>
    /// Fails the current test if a process it recorded, or (on Linux) any child process of the test host, is still
    /// running after <paramref name="grace"/>. Every leftover is killed, with its process tree, either way.
    /// Called by <see cref="ChildProcessTest"/> at tear-down.
    /// </summary>
    /// <param name="grace">How long a process that is on its way out may take to exit.</param>
    /// <param name="report">False when the test has already failed: leftovers are then only killed, so that the
    /// test's own, more precise failure message stands alone.</param>
    public static void AssertNoneLeftRunning(TimeSpan grace, bool report = true)
    {
        string testId = TestContext.CurrentContext.Test.ID;
        List<Tracked> mine;
        lock (s_lock)
        {
            mine = s_tracked.Where(t => t.TestId == testId).ToList();
            s_tracked.RemoveAll(t => t.TestId == testId);
        }

        var clock = Stopwatch.StartNew();
        var leftovers = new List<string>();
        foreach (Tracked tracked in mine)
        {
            if (!WaitUntilGone(tracked.ProcessId, tracked.Started, Max(TimeSpan.Zero, grace - clock.Elapsed)))
            {
                leftovers.Add($"{tracked.What} {tracked.ProcessId}");
                Kill(tracked.ProcessId);
            }
        }

        // Children nobody recorded: started by the test's code but not reported (Linux only).
        foreach (int child in RunningChildren())
        {
            if (!WaitUntilGone(child, StartStampOf(child), Max(TimeSpan.Zero, grace - clock.Elapsed)))
            {
                leftovers.Add($"{NameOf(child)} {child} (a child process of the tests that was not in any recorded list)");
                Kill(child);
            }
        }

        if (report && leftovers.Count > 0)
        {
            Assert.Fail(
                $"Orphan process: {string.Join(", ", leftovers)} still running after the test ended (they have now been killed). " +
                "Every process the test started, directly or through a pool, must have exited when it ends: Dispose must end " +
                "every worker (close its stdin, wait briefly, kill what is left, wait for the exit) and forget none.");
        }
    }

    /// <summary>Kills process <paramref name="processId"/> and its descendants, if it is running, and waits (briefly)
    /// for it to exit.</summary>
    public static void Kill(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            process.Kill(entireProcessTree: true);
            process.WaitForExit(Deadlines.Hang);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Gone already.
        }
    }

    /// <summary>The name of process <paramref name="processId"/> ("PrimeWorker"), or "process" if it is gone.</summary>
    public static string NameOf(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return process.ProcessName;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return "process";
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> until the process with id <paramref name="processId"/> and
    /// start stamp <paramref name="started"/> is gone; true if it is.</summary>
    private static bool WaitUntilGone(int processId, long? started, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            long? now = StartStampOf(processId);
            if (now is null || now != started)
            {
                return true;
            }

            if (clock.Elapsed >= timeout)
            {
                return false;
            }

            // Polling for the exit of a process that is not ours to wait on; not proof of anything.
            Thread.Sleep(10);
        }
    }

    /// <summary>When process <paramref name="processId"/> started, in units that only need to be compared with
    /// each other, or null if it is not running. Two processes with the same id have different stamps.</summary>
    private static long? StartStampOf(int processId)
    {
        if (OperatingSystem.IsLinux())
        {
            // /proc/<pid>/stat: the start time in clock ticks since boot, and the state ('Z' for a zombie).
            return ReadStat(processId) is { } stat && stat.State != 'Z' && stat.State != 'X' ? stat.StartTicks : null;
        }

        try
        {
            using var process = Process.GetProcessById(processId);
            return process.HasExited ? null : process.StartTime.Ticks;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>Reads the fields of /proc/<paramref name="processId"/>/stat that matter here, or null if there is
    /// no such process.</summary>
    private static (char State, int ParentId, long StartTicks)? ReadStat(int processId)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) state ppid ... starttime ...": comm may contain spaces and parentheses, so split after the last ')'.
        int close = text.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        string[] fields = text[(close + 2)..].Split(' ');

        // fields[0] is field 3 (state), fields[1] field 4 (ppid), fields[19] field 22 (starttime).
        return fields.Length > 19 &&
               int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int parent) &&
               long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out long startTicks)
            ? (fields[0][0], parent, startTicks)
            : null;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>One recorded process.</summary>
    private sealed record Tracked(string TestId, int ProcessId, long Started, string What);
}
