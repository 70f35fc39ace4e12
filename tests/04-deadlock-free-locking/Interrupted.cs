namespace ConcurrencyKata.Tests.Locking;

/// <summary>
/// Forces the failure path "taking a lock failed" (docs/testing.md, rule 12): the test holds a lock, lets the call under
/// test wait for it, and interrupts the waiting thread there. <see cref="KataLock.Enter"/> (or
/// <see cref="KataLock.TryEnter"/>) then throws <see cref="ThreadInterruptedException"/> without taking the lock, as any
/// failed acquisition would. The call must let the exception through, hold no lock afterwards, and change nothing; and the
/// same thread must be able to go on as if the failed call had never happened (no lock kept, no record left in the lock
/// hierarchy).
/// </summary>
internal static class Interrupted
{
    /// <summary>Runs <paramref name="call"/> on its own thread while the test holds <paramref name="held"/>, interrupts it
    /// once it waits for <paramref name="held"/>, checks the aftermath, then releases <paramref name="held"/> and runs
    /// <paramref name="again"/> on the same thread.</summary>
    /// <param name="what">The call, for messages: "transfer A→B".</param>
    /// <param name="held">The lock the test holds; the call must wait for it.</param>
    /// <param name="guarded">Every lock the call might take: none may stay held by the call's thread.</param>
    /// <param name="call">The call under test.</param>
    /// <param name="changed">After the failure: a description of what the failed call changed, or null.</param>
    /// <param name="again">Run on the same thread once <paramref name="held"/> is free: must succeed.</param>
    /// <param name="ifKept">The rule, if the failed call kept a lock.</param>
    /// <param name="ifNeverWaited">The rule, if the call never waited for <paramref name="held"/>; the locks it took are
    /// passed in.</param>
    /// <param name="ifAgainFails">The rule, if <paramref name="again"/> throws; by default "leave no trace".</param>
    public static void WhileWaitingFor(
        string what,
        KataLock held,
        IReadOnlyCollection<KataLock> guarded,
        Action call,
        Func<string?> changed,
        Action again,
        string ifKept,
        Func<IReadOnlyList<KataLock>, string> ifNeverWaited,
        string? ifAgainFails = null)
    {
        ArgumentNullException.ThrowIfNull(held);
        ArgumentNullException.ThrowIfNull(guarded);
        ArgumentNullException.ThrowIfNull(changed);
        ArgumentNullException.ThrowIfNull(ifNeverWaited);

        // The holder first, the log second: the holder's own thread is not followed.
        using var holder = LockHolder.Hold(held);
        using var log = LockLog.Start();
        using var failed = new ManualResetEventSlim(false);
        using var goOn = new ManualResetEventSlim(false);
        ThreadInterruptedException? thrown = null;
        bool returned = false;
        var thread = LearnerThread.Start($"{what}, interrupted while it waits for '{held.Name}'", () =>
        {
            log.Begin();
            try
            {
                call();
                returned = true;
            }
            catch (ThreadInterruptedException ex)
            {
                thrown = ex;
            }

            failed.Set();
            goOn.Wait(Deadlines.Hang);

            // The same thread again: a lock the failed call kept, or a record the hierarchy kept, shows up here.
            again();
        });

        if (!log.InterruptWhileWaitingFor(held, thread, $"{what} should wait for '{held.Name}', which the test holds."))
        {
            thread.TryJoin();
            thread.RethrowIfFailed();
            IReadOnlyList<KataLock> took = [.. log.Events.Where(e => e.What == "takes").Select(e => e.Lock).Distinct()];
            Assert.Fail($"{what} returned without ever waiting for '{held.Name}', which the test held all along. {ifNeverWaited(took)}");
        }

        thread.ShouldReach(failed, $"{what} never returned after its thread was interrupted while waiting for '{held.Name}'.");
        if (returned)
        {
            Assert.Fail(
                $"{what} returned normally although taking '{held.Name}' failed (its Enter threw ThreadInterruptedException): a failure " +
                "must reach the caller, not be swallowed; the call did not do what it was asked.");
        }

        Thread caller = log.Caller!;
        foreach (KataLock kataLock in guarded.Where(l => l.Owner == caller))
        {
            Assert.Fail(
                $"{what} failed (taking '{held.Name}' threw {thrown?.GetType().Name}), but its thread still holds '{kataLock.Name}': " +
                $"nobody can ever take it again. {ifKept}");
        }

        if (changed() is { } change)
        {
            Assert.Fail($"{what} failed (taking '{held.Name}' threw {thrown?.GetType().Name}), but it changed something: {change}");
        }

        holder.Release();
        goOn.Set();
        thread.ShouldFinish(
            $"After {what} failed, the same thread's next call is stuck although no other thread holds any lock. {ifKept}",
            diagnosisIfThrew: $"After {what} failed (taking '{held.Name}' threw), the same thread's next call failed: " +
                              (ifAgainFails ?? "the failed call must leave no trace, as if it had never happened."));
    }
}
