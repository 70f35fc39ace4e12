using System.Diagnostics;

namespace ConcurrencyKata.Tests.Locking;

/// <summary>One <see cref="KataLock"/> operation of the caller a <see cref="LockLog"/> follows.</summary>
/// <param name="What">"reaches for", "takes", "gives up on" or "releases".</param>
/// <param name="Lock">The lock.</param>
/// <param name="Timeout">For "reaches for": how long the caller asked to wait (<see cref="Timeout.InfiniteTimeSpan"/>
/// for <see cref="KataLock.Enter"/>).</param>
/// <param name="At">When, counted from <see cref="LockLog.Begin"/>.</param>
internal readonly record struct LockEvent(string What, KataLock Lock, TimeSpan Timeout, TimeSpan At);

/// <summary>
/// Follows one caller (the thread that calls <see cref="Begin"/>) through its <see cref="KataLock"/> operations: which
/// lock it reached for, with which timeout, and when, on one clock. The tests of timeouts and of failures read it to
/// check what the code asked for (no wait may end after the caller's deadline), and act at the right moment: pause the
/// caller right after it took a lock (as a busy machine would), or interrupt it while it waits for a lock that the test
/// holds (the way a failing <see cref="KataLock.Enter"/> looks to the code that called it).
/// </summary>
/// <remarks>
/// Installed with <see cref="KataLock.Observe"/> when it is created: create it before the threads it should see, and
/// dispose it at the end of the test. The hooks never block for long and never take a <see cref="KataLock"/>.
/// </remarks>
internal sealed class LockLog : IKataLockObserver, IDisposable
{
    /// <summary>The lock protecting every field below. A plain object: the log must not observe itself.</summary>
    private readonly object _sync = new();

    /// <summary>The caller's operations, in order. Guarded by <see cref="_sync"/>.</summary>
    private readonly List<LockEvent> _events = [];

    private readonly Stopwatch _clock = new();
    private readonly IDisposable _scope;

    /// <summary>The thread that called <see cref="Begin"/>. Guarded by <see cref="_sync"/>.</summary>
    private Thread? _caller;

    /// <summary>Set by <see cref="PauseAfterTaking"/>: after its Nth acquisition, the caller spins until the log's
    /// clock reads at least this much. Guarded by <see cref="_sync"/>.</summary>
    private (int Nth, TimeSpan Until)? _pause;

    /// <summary>How many locks the caller has taken. Guarded by <see cref="_sync"/>.</summary>
    private int _taken;

    private bool _closed;

    private LockLog() => _scope = KataLock.Observe(this);

    /// <summary>Starts watching the threads the test starts from now on; <see cref="Begin"/> picks the one to follow.</summary>
    public static LockLog Start() => new();

    /// <summary>Called by the caller's thread right before the call under test: from now on the log follows this
    /// thread, and its clock starts at zero.</summary>
    public void Begin()
    {
        lock (_sync)
        {
            _caller = Thread.CurrentThread;
            _events.Clear();
            _taken = 0;
            _clock.Restart();
        }
    }

    /// <summary>The caller's thread, once it has called <see cref="Begin"/>.</summary>
    public Thread? Caller
    {
        get
        {
            lock (_sync)
            {
                return _caller;
            }
        }
    }

    /// <summary>The log's clock: the time since <see cref="Begin"/>.</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>Everything the caller did so far.</summary>
    public IReadOnlyList<LockEvent> Events
    {
        get
        {
            lock (_sync)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Every wait the caller asked for: its "reaches for" events.</summary>
    public IReadOnlyList<LockEvent> Waits => [.. Events.Where(e => e.What == "reaches for")];

    /// <summary>After the caller's <paramref name="nth"/> acquisition, keeps it busy (it spins, holding what it holds)
    /// until the log's clock reads <paramref name="until"/>: the time a descheduled thread, or a slow step, would take.</summary>
    public void PauseAfterTaking(int nth, TimeSpan until)
    {
        lock (_sync)
        {
            _pause = (nth, until);
        }
    }

    /// <summary>Waits until the caller has done something that matches <paramref name="match"/> and returns it, or
    /// returns <see langword="null"/> as soon as <paramref name="thread"/> (the caller's <see cref="LearnerThread"/>)
    /// has finished without doing it. Fails, naming <paramref name="diagnosis"/>, at the deadline.</summary>
    public LockEvent? WaitFor(Func<LockEvent, bool> match, LearnerThread thread, string diagnosis)
    {
        ArgumentNullException.ThrowIfNull(match);
        ArgumentNullException.ThrowIfNull(thread);
        var clock = Stopwatch.StartNew();
        lock (_sync)
        {
            while (true)
            {
                foreach (LockEvent e in _events)
                {
                    if (match(e))
                    {
                        return e;
                    }
                }

                if (thread.IsFinished)
                {
                    return null;
                }

                if (clock.Elapsed > Deadlines.Hang)
                {
                    Assert.Fail($"Deadlock suspected: {thread.Name} is still running after {Deadlines.Describe(Deadlines.Hang)}. {diagnosis}");
                }

                // Woken by every hook; the short timeout notices the caller's end, which no hook reports.
                Monitor.Wait(_sync, TimeSpan.FromMilliseconds(5));
            }
        }
    }

    /// <summary>
    /// Interrupts the caller while it waits for <paramref name="kataLock"/>, which a thread of the test holds: the caller's
    /// <see cref="KataLock.Enter"/> or <see cref="KataLock.TryEnter"/> then throws <see cref="ThreadInterruptedException"/>
    /// without taking the lock, exactly as a failed acquisition looks to the code that asked for it.
    /// </summary>
    /// <returns>Whether the caller was interrupted; <see langword="false"/> if it finished without ever waiting for
    /// <paramref name="kataLock"/>.</returns>
    public bool InterruptWhileWaitingFor(KataLock kataLock, LearnerThread thread, string diagnosis)
    {
        ArgumentNullException.ThrowIfNull(kataLock);
        if (WaitFor(e => e.What == "reaches for" && e.Lock == kataLock, thread, diagnosis) is null)
        {
            return false;
        }

        // It has reached for the lock, which the test holds: the next thing it does is to block on it. Interrupt it only
        // once it is blocked there (an interrupt delivered anywhere else would be a different failure).
        var clock = Stopwatch.StartNew();
        while (!thread.IsWaiting)
        {
            if (thread.IsFinished)
            {
                return false;
            }

            if (clock.Elapsed > Deadlines.Hang)
            {
                Assert.Fail($"{thread.Name} reached for '{kataLock.Name}' but never blocked on it. {diagnosis}");
            }

            Thread.Yield();
        }

        Caller!.Interrupt();
        return true;
    }

    /// <summary>Stops following the caller; the observer becomes a no-op.</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            _closed = true;
            Monitor.PulseAll(_sync);
        }

        _scope.Dispose();
    }

    void IKataLockObserver.Acquiring(KataLock kataLock, TimeSpan timeout) => Record("reaches for", kataLock, timeout);

    void IKataLockObserver.Acquired(KataLock kataLock)
    {
        if (Record("takes", kataLock, TimeSpan.Zero) is { } until)
        {
            // Spinning, not sleeping: the caller stays busy, as if it were still working, and the pause ends on time.
            while (_clock.Elapsed < until)
            {
                Thread.SpinWait(20);
            }
        }
    }

    void IKataLockObserver.GaveUp(KataLock kataLock) => Record("gives up on", kataLock, TimeSpan.Zero);

    void IKataLockObserver.Releasing(KataLock kataLock) => Record("releases", kataLock, TimeSpan.Zero);

    /// <summary>Records an operation of the caller; returns until when to pause it, if it should pause now.</summary>
    private TimeSpan? Record(string what, KataLock kataLock, TimeSpan timeout)
    {
        lock (_sync)
        {
            if (_closed || _caller != Thread.CurrentThread)
            {
                return null;
            }

            _events.Add(new LockEvent(what, kataLock, timeout, _clock.Elapsed));
            Monitor.PulseAll(_sync);
            if (what == "takes" && ++_taken == _pause?.Nth)
            {
                return _pause.Value.Until;
            }

            return null;
        }
    }
}
