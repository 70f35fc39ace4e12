using System.Diagnostics;

namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Waits for a condition that nobody signals, by looking again every few milliseconds, with a deadline: a count
/// that learner code updates from another thread (a pool's worker list), the state of another process. Prefer a
/// handshake (an event, a task, a gate) wherever the code under test can signal one (docs/testing.md, rule 1);
/// this is for the places where it cannot. Polling is never proof of anything: the condition itself is the proof,
/// and the deadline only turns "never" into a named failure.
/// </summary>
public static class Poll
{
    /// <summary>Returns as soon as <paramref name="condition"/> holds; fails with <paramref name="diagnosisIfNever"/>
    /// if it still does not hold at the deadline.</summary>
    /// <param name="condition">What to wait for. Called on the test's thread, repeatedly.</param>
    /// <param name="diagnosisIfNever">The likely cause if the condition never holds.</param>
    /// <param name="deadline">Default <see cref="Deadlines.Hang"/>.</param>
    public static void Until(Func<bool> condition, string diagnosisIfNever, TimeSpan? deadline = null) =>
        Until(condition, () => diagnosisIfNever, deadline);

    /// <summary>Like <see cref="Until(Func{bool}, string, TimeSpan?)"/>, with a diagnosis written only if it fails,
    /// so that it can report the state at the deadline (counts, what is still running).</summary>
    public static void Until(Func<bool> condition, Func<string> diagnosisIfNever, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(diagnosisIfNever);
        TimeSpan limit = deadline ?? Deadlines.Hang;
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"Still waiting after {Deadlines.Describe(limit)}: {diagnosisIfNever()}");
            }

            Thread.Sleep(2);
        }
    }
}
