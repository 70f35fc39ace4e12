namespace ConcurrencyKata.Tests.Locking;

/// <summary>
/// Plays "another thread in the middle of changing an account" (or "a neighbour eating with this fork"): takes a
/// <see cref="KataLock"/> on its own <see cref="LearnerThread"/> and keeps it until <see cref="Release"/>. The test's
/// own code, not the learner's: a lock the test holds is how it proves that learner code waits for it.
/// </summary>
internal sealed class LockHolder : IDisposable
{
    private readonly ManualResetEventSlim _taken = new(false);
    private readonly ManualResetEventSlim _release = new(false);
    private readonly LearnerThread _thread;
    private readonly KataLock _lock;

    private LockHolder(KataLock kataLock)
    {
        _lock = kataLock;
        _thread = LearnerThread.Start($"the test's holder of {kataLock.Name}", () =>
        {
            kataLock.Enter();
            try
            {
                _taken.Set();

                // Bounded, like every wait in the tests; the test releases it long before.
                _release.Wait(Deadlines.WholeTest);
            }
            finally
            {
                kataLock.Exit();
            }
        });
        _taken.ShouldOpen(
            $"The test could not take lock '{kataLock.Name}' to hold it: some earlier call left it held by " +
            $"'{kataLock.Owner?.Name ?? "a thread that has ended"}'. A lock must be released on every path, in a finally.");
    }

    /// <summary>Takes <paramref name="kataLock"/> on a thread of its own and holds it.</summary>
    public static LockHolder Hold(KataLock kataLock)
    {
        ArgumentNullException.ThrowIfNull(kataLock);
        return new LockHolder(kataLock);
    }

    /// <summary>Releases the lock and waits until it is released.</summary>
    public void Release()
    {
        _release.Set();
        _thread.ShouldFinish($"The test's holder of '{_lock.Name}' could not release it.");
    }

    /// <summary>Releases the lock, if <see cref="Release"/> was not called (for example because the test failed).</summary>
    public void Dispose() => _release.Set();
}
