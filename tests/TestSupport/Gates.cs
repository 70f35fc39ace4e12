namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Waits on the test's own gates (events, countdowns, tasks) with a deadline and a diagnosis, so that a gate that
/// never opens fails the test with a named cause instead of hanging it.
/// </summary>
public static class Gates
{
    /// <summary>Waits for <paramref name="gate"/> to be set, or fails with <paramref name="diagnosisIfClosed"/>.</summary>
    public static void ShouldOpen(this ManualResetEventSlim gate, string diagnosisIfClosed, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(gate);
        TimeSpan limit = deadline ?? Deadlines.Hang;
        if (!gate.Wait(limit))
        {
            Assert.Fail($"Still waiting after {Deadlines.Describe(limit)}: {diagnosisIfClosed}");
        }
    }

    /// <summary>Waits for <paramref name="countdown"/> to reach zero, or fails with <paramref name="diagnosisIfClosed"/>
    /// and how many signals are still missing.</summary>
    public static void ShouldOpen(this CountdownEvent countdown, string diagnosisIfClosed, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(countdown);
        TimeSpan limit = deadline ?? Deadlines.Hang;
        if (!countdown.Wait(limit))
        {
            Assert.Fail(
                $"Still waiting after {Deadlines.Describe(limit)}: {countdown.InitialCount - countdown.CurrentCount} of " +
                $"{countdown.InitialCount} arrived. {diagnosisIfClosed}");
        }
    }
}
