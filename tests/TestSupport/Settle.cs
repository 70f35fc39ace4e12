namespace ConcurrencyKata.TestSupport;

/// <summary>
/// The only sanctioned pause in the kata's tests (docs/testing.md, rule 2): a wait that gives wrong code
/// time to show itself. If the pause is too short, a test can only miss a bug; it can never fail correct code.
/// Never use it to wait for something to happen: use a gate or a <see cref="LearnerThread"/> deadline for that.
/// </summary>
public static class Settle
{
    /// <summary>The usual one-sided pause: 50 ms.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromMilliseconds(50);

    /// <summary>Pauses the test thread for <paramref name="pause"/> (or <see cref="Default"/>), so that a thread that
    /// is about to do something wrong has had the chance to do it.</summary>
    public static void OneSided(TimeSpan? pause = null) => Thread.Sleep(pause ?? Default);
}
