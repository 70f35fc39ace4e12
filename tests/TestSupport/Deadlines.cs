using System.Globalization;

namespace ConcurrencyKata.TestSupport;

/// <summary>
/// How long a test waits before it calls something stuck. Deadlines detect hangs; they never measure speed, and
/// code that works never waits them out. Set <c>KATA_DEADLINE_SCALE</c> (for example 0.5 or 3) to shrink or stretch
/// them all, e.g. for a very slow machine.
/// </summary>
public static class Deadlines
{
    /// <summary>The factor from <c>KATA_DEADLINE_SCALE</c>, or 1.</summary>
    public static double Scale { get; } =
        double.TryParse(Environment.GetEnvironmentVariable("KATA_DEADLINE_SCALE"), NumberStyles.Float, CultureInfo.InvariantCulture, out double scale) && scale > 0
            ? scale
            : 1.0;

    /// <summary>How long one blocked call may take to wake up, or one thread to finish, before the test reports a
    /// deadlock or a lost wake-up: 10 s.</summary>
    public static TimeSpan Hang => Scaled(TimeSpan.FromSeconds(10));

    /// <summary>How long a whole stress run may take before the test reports it stuck: 30 s.</summary>
    public static TimeSpan Stress => Scaled(TimeSpan.FromSeconds(30));

    /// <summary>How long one whole test (set-up, body, tear-down) may run before it is reported stuck and abandoned:
    /// 1 minute, and never less than 20 s. Every wait inside a test has its own, shorter deadline; this one catches a
    /// call that blocks on the test's own thread. The floor keeps it above every <see cref="HangAtLeast"/> of an
    /// ordinary test (15 s at most), so that such a wait times out first, with its own diagnosis.</summary>
    public static TimeSpan WholeTest => Max(Scaled(TimeSpan.FromMinutes(1)), TimeSpan.FromSeconds(20));

    /// <summary><see cref="Hang"/>, but never shorter than <paramref name="floor"/>: for a wait on work that correct code
    /// needs that long for (a worker process answering a big request, a cluster recovering from a killed silo),
    /// however short <c>KATA_DEADLINE_SCALE</c> makes the deadlines that wrong code sits out. The floor must stay below
    /// the test's own deadline: 15 s at most in an ordinary test (<see cref="WholeTest"/>), more only in a
    /// <see cref="ProcessClusterCategory"/> test.</summary>
    public static TimeSpan HangAtLeast(TimeSpan floor) => Max(Hang, floor);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>The whole-test deadline of a systematic (Coyote) test: <see cref="WholeTest"/>, but never shorter than
    /// one minute. <c>KATA_DEADLINE_SCALE</c> below 1 shortens the waits that wrong code makes the tests sit out; a
    /// systematic test waits out nothing (Coyote reports a deadlock at once), it only computes, and cutting it short
    /// would explore fewer schedules.</summary>
    public static TimeSpan SystematicTest => Max(WholeTest, TimeSpan.FromMinutes(1));

    /// <summary>The NUnit category of tests that start a cluster of OS processes (<c>[Category(Deadlines.ProcessClusterCategory)]</c>):
    /// their whole-test deadline is <see cref="ProcessClusterTest"/>.</summary>
    public const string ProcessClusterCategory = "ProcessCluster";

    /// <summary>The whole-test deadline of a test that starts a cluster of OS processes (exercise 05's silo processes):
    /// <see cref="WholeTest"/>, but never shorter than two minutes. Starting .NET processes that each host a server
    /// takes seconds, many on a busy 2-core machine; a <c>KATA_DEADLINE_SCALE</c> below 1 shortens the waits that wrong
    /// code makes a test sit out, never the time correct code needs to start its processes.</summary>
    public static TimeSpan ProcessClusterTest => Max(WholeTest, TimeSpan.FromMinutes(2));

    /// <summary>Scales <paramref name="deadline"/> by <see cref="Scale"/>.</summary>
    public static TimeSpan Scaled(TimeSpan deadline) => TimeSpan.FromTicks((long)(deadline.Ticks * Scale));

    /// <summary>Says a deadline in words for failure messages ("10 s").</summary>
    public static string Describe(TimeSpan deadline) =>
        deadline.TotalSeconds >= 1
            ? deadline.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + " s"
            : deadline.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms";
}
