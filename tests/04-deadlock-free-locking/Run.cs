namespace ConcurrencyKata.Tests.Locking;

/// <summary>Shorthands shared by the exercise 04 tests.</summary>
internal static class Run
{
    /// <summary>The learner's bank as Steps 1–3 call it: a <see cref="LockOrderViolationException"/> that comes out of it
    /// (the lock hierarchy of Step 4 refusing a lock) says which rule of the hierarchy broke. See <see cref="ExplainedBank"/>.</summary>
    public static ExplainedBank Explained(this Bank bank) => new(bank);

    /// <summary>Runs a call that should return at once on its own <see cref="LearnerThread"/>, so that a call stuck
    /// on a lock is reported within a deadline instead of blocking the test's own thread.</summary>
    /// <param name="what">The call, for messages.</param>
    /// <param name="call">The call.</param>
    /// <param name="ifThrew">The likely cause if it throws.</param>
    public static void Quickly(string what, Action call, string? ifThrew = null) =>
        LearnerThread.Start(what, call).ShouldFinish(
            $"{what} never returned, although no other thread held any lock. Is a lock left held by an earlier call (no " +
            "finally), or does the call wait for itself (taking the same lock twice)?",
            diagnosisIfThrew: ifThrew);

    /// <summary>Like <see cref="Quickly(string, Action, string?)"/>, for a call that returns a value.</summary>
    public static T Quickly<T>(string what, Func<T> call, string? ifThrew = null) =>
        (T)LearnerThread.Start(what, () => call()).ShouldFinish(
            $"{what} never returned, although no other thread held any lock. Is a lock left held by an earlier call (no " +
            "finally), or does the call wait for itself (taking the same lock twice)?",
            diagnosisIfThrew: ifThrew)!;

    /// <summary>Runs a call that should throw <typeparamref name="TException"/> at once, on its own thread.</summary>
    public static TException Throwing<TException>(string what, Action call, string rule)
        where TException : Exception =>
        LearnerThread.Start(what, call).ShouldThrow<TException>(
            $"{what} never returned: it should have thrown {typeof(TException).Name} at once, before taking any lock.",
            rule);

    /// <summary>Waits until <paramref name="thread"/>'s code sets <paramref name="gate"/> (for example "philosopher 0
    /// is eating"), failing at once if the thread finishes first: a stub's NotImplementedException is rethrown as it
    /// is, and anything else is reported with <paramref name="diagnosis"/>.</summary>
    public static void ShouldReach(this LearnerThread thread, ManualResetEventSlim gate, string diagnosis) =>
        thread.ShouldReach(gate, diagnosis, diagnosis);

    /// <summary>Like <see cref="ShouldReach(LearnerThread, ManualResetEventSlim, string)"/>, with one diagnosis if the
    /// thread is stuck and another one if it throws.</summary>
    public static void ShouldReach(this LearnerThread thread, ManualResetEventSlim gate, string diagnosis, string ifThrew)
    {
        ArgumentNullException.ThrowIfNull(thread);
        ArgumentNullException.ThrowIfNull(gate);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!gate.Wait(TimeSpan.FromMilliseconds(5)))
        {
            if (thread.IsFinished)
            {
                thread.RethrowIfFailed(ifThrew);
                Assert.Fail($"{thread.Name} returned without getting there. {diagnosis}");
            }

            if (clock.Elapsed > Deadlines.Hang)
            {
                Assert.Fail($"Deadlock suspected: {thread.Name} is still blocked after {Deadlines.Describe(Deadlines.Hang)}. {diagnosis}");
            }
        }
    }

    /// <summary>Fails if any of <paramref name="locks"/> is still held, naming the holder.</summary>
    public static void ShouldAllBeFree(this IEnumerable<KataLock> locks, string after, string rule)
    {
        foreach (KataLock kataLock in locks)
        {
            if (kataLock.IsHeld)
            {
                Thread? owner = kataLock.Owner;
                Assert.Fail(
                    $"{after}, lock '{kataLock.Name}' is still held (by '{owner?.Name ?? "?"}'" +
                    $"{(owner is { IsAlive: false } ? ", a thread that has already ended: nobody can ever release it" : "")}). {rule}");
            }
        }
    }
}
