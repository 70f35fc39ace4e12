// Provided by the kata: complete, and identical in exercises/ and solutions/ (tests/Repo checks it). Do not change it.

namespace ConcurrencyKata;

/// <summary>
/// A named lock that the kata's tests can watch: the counterpart of Python's <c>threading.Lock</c>. Every account
/// and every fork in this exercise is guarded by one. <b>Provided by the kata, complete: use it, do not change it.</b>
/// </summary>
/// <remarks>
/// <para>Take it with <see cref="Enter"/> (or <see cref="TryEnter"/>) and give it back with <see cref="Exit"/> in a
/// <c>finally</c>, exactly like <c>Monitor.Enter</c>/<c>Monitor.Exit</c>, which it uses inside:</para>
/// <code>
/// account.Lock.Enter();
/// try
/// {
///     // read and change account.Balance
/// }
/// finally
/// {
///     account.Lock.Exit();
/// }
/// </code>
/// <para>Always go through the <see cref="KataLock"/>: never <c>lock (account)</c> or <c>lock (account.Lock)</c>.
/// The tests see every <see cref="Enter"/> and <see cref="Exit"/>, which is how they force the dangerous
/// interleavings (they can pause a thread right after it took its first lock) and how they name the threads of a
/// deadlock and the locks each one holds and waits for. A plain <c>lock</c> statement is invisible to them.</para>
/// <para>Unlike <c>lock</c>, a <see cref="KataLock"/> is <b>not reentrant</b>, like Python's <c>threading.Lock</c>:
/// a thread that already holds it and asks again gets a <see cref="LockRecursionException"/>, where a real
/// non-reentrant lock would deadlock the thread with itself.</para>
/// <para><see cref="Id"/> is unique and never changes, so it can serve as the key of a global lock order; so can
/// any other unique, stable key, such as an account's Id.</para>
/// </remarks>
public sealed class KataLock
{
    /// <summary>The last <see cref="Id"/> handed out. Only changed with <see cref="Interlocked"/>.</summary>
    private static long s_lastId;

    /// <summary>
    /// The observer of the current test, if any. An <see cref="AsyncLocal{T}"/> flows from a thread to every thread,
    /// task and timer it starts, so each test's observer sees exactly the locks taken by the threads that test
    /// started (and the threads those threads started), never another test's: tests cannot disturb each other,
    /// even when a thread of an earlier test is still stuck somewhere.
    /// </summary>
    private static readonly AsyncLocal<IKataLockObserver?> s_observer = new();

    /// <summary>
    /// The lock protecting whatever this <see cref="KataLock"/> guards: a private object, so that no outside code can
    /// take the monitor by itself, without <see cref="Enter"/>, and escape the tests' view.
    /// </summary>
    private readonly object _monitor = new();

    /// <summary>The thread that holds the lock, or <see langword="null"/>. Set right after <see cref="_monitor"/>
    /// is entered and cleared right before it is exited, so it is only ever written by the holder.</summary>
    private volatile Thread? _owner;

    /// <summary>Creates an unheld lock called <paramref name="name"/>, with a new unique <see cref="Id"/>.</summary>
    /// <param name="name">The name used in messages, for example an account's Id or "fork 3".</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    public KataLock(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Id = Interlocked.Increment(ref s_lastId);
    }

    /// <summary>A unique number for this lock, increasing in the order locks are created; it never changes.</summary>
    public long Id { get; }

    /// <summary>The lock's name, for messages.</summary>
    public string Name { get; }

    /// <summary>The thread that holds the lock right now, or <see langword="null"/>. For diagnostics: by the time
    /// you look at it, it may have changed.</summary>
    public Thread? Owner => _owner;

    /// <summary>Whether some thread holds the lock right now. For diagnostics and tests.</summary>
    public bool IsHeld => _owner is not null;

    /// <summary>Whether the calling thread holds the lock. Always accurate for the calling thread.</summary>
    public bool IsHeldByCurrentThread => _owner == Thread.CurrentThread;

    /// <summary>
    /// Installs <paramref name="observer"/> for the calling thread and every thread it starts from now on, until the
    /// returned scope is disposed. <b>For the kata's tests</b>: your code never needs it.
    /// </summary>
    /// <param name="observer">Called on the acquiring or releasing thread around every lock operation.</param>
    /// <returns>Disposing it puts the previous observer (usually none) back on the calling thread. Threads started
    /// inside the scope keep the observer; it is up to the observer to ignore them once it is done.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="observer"/> is null.</exception>
    public static IDisposable Observe(IKataLockObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        IKataLockObserver? previous = s_observer.Value;
        s_observer.Value = observer;
        return new ObserverScope(previous);
    }

    /// <summary>Takes the lock, waiting as long as it takes while another thread holds it.</summary>
    /// <exception cref="LockRecursionException">The calling thread already holds this lock.</exception>
    public void Enter()
    {
        ThrowIfHeldByCurrentThread();
        IKataLockObserver? observer = s_observer.Value;
        observer?.Acquiring(this, Timeout.InfiniteTimeSpan);
        Monitor.Enter(_monitor);
        _owner = Thread.CurrentThread;
        observer?.Acquired(this);
    }

    /// <summary>Takes the lock if it becomes free within <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait: <see cref="TimeSpan.Zero"/> does not wait at all,
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits as long as it takes.</param>
    /// <returns><see langword="true"/> if the calling thread now holds the lock (it must <see cref="Exit"/> it);
    /// <see langword="false"/> if another thread still held it when the timeout ran out: the calling thread does
    /// <b>not</b> hold it then, and must not <see cref="Exit"/> it.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than
    /// <see cref="Timeout.InfiniteTimeSpan"/>) or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    /// <exception cref="LockRecursionException">The calling thread already holds this lock.</exception>
    public bool TryEnter(TimeSpan timeout)
    {
        if (timeout != Timeout.InfiniteTimeSpan && (timeout < TimeSpan.Zero || timeout.TotalMilliseconds > int.MaxValue))
        {
            throw new ArgumentOutOfRangeException(
                nameof(timeout),
                timeout,
                "The timeout must be between TimeSpan.Zero and int.MaxValue milliseconds, or Timeout.InfiniteTimeSpan to wait without limit.");
        }

        ThrowIfHeldByCurrentThread();
        IKataLockObserver? observer = s_observer.Value;
        observer?.Acquiring(this, timeout);
        if (!Monitor.TryEnter(_monitor, timeout))
        {
            observer?.GaveUp(this);
            return false;
        }

        _owner = Thread.CurrentThread;
        observer?.Acquired(this);
        return true;
    }

    /// <summary>Releases the lock. Only the thread that holds it may release it, once per acquisition.</summary>
    /// <exception cref="SynchronizationLockException">The calling thread does not hold the lock (it never took it,
    /// its <see cref="TryEnter"/> returned <see langword="false"/>, or it already released it).</exception>
    public void Exit()
    {
        if (!IsHeldByCurrentThread)
        {
            Thread? owner = _owner;
            throw new SynchronizationLockException(
                $"Exit on lock '{Name}', which this thread does not hold (it is held by " +
                $"{(owner is null ? "nobody" : $"thread '{owner.Name ?? "#" + owner.ManagedThreadId}'")}). Only the thread that " +
                "took a lock may release it, once. Did a TryEnter return false?");
        }

        s_observer.Value?.Releasing(this);
        _owner = null;
        Monitor.Exit(_monitor);
    }

    /// <summary>The lock's <see cref="Name"/>.</summary>
    public override string ToString() => Name;

    private void ThrowIfHeldByCurrentThread()
    {
        if (IsHeldByCurrentThread)
        {
            throw new LockRecursionException(
                $"This thread already holds lock '{Name}'. A KataLock is not reentrant (like Python's threading.Lock): taking " +
                "it a second time would make the thread wait for itself forever.");
        }
    }

    /// <summary>Restores the previous observer when disposed.</summary>
    private sealed class ObserverScope(IKataLockObserver? previous) : IDisposable
    {
        public void Dispose() => s_observer.Value = previous;
    }
}
