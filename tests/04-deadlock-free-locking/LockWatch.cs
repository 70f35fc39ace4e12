using System.Diagnostics;

namespace ConcurrencyKata.Tests.Locking;

/// <summary>Where a participant of a <see cref="LockWatch"/> is parked: right before its Nth attempt to take a
/// <see cref="KataLock"/>, or right after its Nth successful acquisition. <c>default</c> never parks.</summary>
internal readonly record struct Park(bool Before, int Nth)
{
    /// <summary>Parks the thread right after it has taken its <paramref name="nth"/> lock (and still holds it).</summary>
    public static Park AfterLock(int nth) => new(false, nth);

    /// <summary>Parks the thread right before its <paramref name="nth"/> attempt to take a lock (it holds the
    /// <paramref name="nth"/> - 1 locks it took before).</summary>
    public static Park BeforeLock(int nth) => new(true, nth);
}

/// <summary>
/// Watches every <see cref="KataLock"/> taken by the threads of one test, and forces the interleavings that break
/// wrong code (docs/testing.md, rule 12): a participant can be parked at a chosen acquisition until every other
/// participant is parked too, blocked on a lock, or finished. Then all parked participants go on together.
/// </summary>
/// <remarks>
/// <para>Two transfers A→B and B→A, each parked right after its first lock: code that locks in argument order parks
/// with A and B held, both go on, and they deadlock on every run. Code that locks in one global order parks the first
/// transfer with A held; the second one blocks on A, which counts as "cannot go on", so the first is released at once
/// and both finish. Correct code never waits a deadline out, wrong code never escapes by luck.</para>
/// <para>It also keeps the wait-for graph: who holds which lock and who waits for which. A cycle of threads each
/// waiting forever for a lock the next one holds is a deadlock for certain (ownership is recorded after a lock is
/// taken and forgotten before it is released, so a recorded owner really holds the lock); it is reported at once, by
/// name: "transfer A→B holds A and waits for B while transfer B→A holds B and waits for A".</para>
/// <para>The observer flows with the test's execution context, so only this test's threads (and the threads they
/// start, such as a dinner's philosophers) report to it. Create it before the threads it should see, and dispose it
/// at the end of the test: that releases any parked thread and turns the observer into a no-op.</para>
/// </remarks>
internal sealed class LockWatch : IKataLockObserver, IDisposable
{
    /// <summary>The lock protecting every field below, and the monitor parked participants wait on. A plain object,
    /// never a <see cref="KataLock"/>: the watch must not observe itself.</summary>
    private readonly object _sync = new();

    /// <summary>Who holds each lock, as far as the hooks have said. Guarded by <see cref="_sync"/>.</summary>
    private readonly Dictionary<KataLock, Thread> _owners = [];

    /// <summary>Which lock each waiting thread asked for, and whether it waits forever (<see cref="KataLock.Enter"/>)
    /// rather than with a timeout. Guarded by <see cref="_sync"/>.</summary>
    private readonly Dictionary<Thread, (KataLock Lock, bool Forever)> _waiting = [];

    /// <summary>The participants, in the order they were registered. Guarded by <see cref="_sync"/>.</summary>
    private readonly List<Participant> _participants = [];

    /// <summary>Every time a participant asked for a lock that another thread held. Guarded by <see cref="_sync"/>.</summary>
    private readonly List<(string Waiter, string Lock, string Holder)> _waitsOnHeldLocks = [];

    /// <summary>Every time a participant's TryEnter gave up: on which lock, after asking to wait how long, and which
    /// locks it held at that moment. Guarded by <see cref="_sync"/>.</summary>
    private readonly List<(string Label, string Lock, TimeSpan Timeout, string[] Held)> _giveUps = [];

    /// <summary>The timeout each waiting thread asked for. Guarded by <see cref="_sync"/>.</summary>
    private readonly Dictionary<Thread, TimeSpan> _asked = [];

    private readonly IDisposable _scope;

    /// <summary>Incremented each time the parked participants are released together. Guarded by <see cref="_sync"/>.</summary>
    private int _releases;

    /// <summary>Set by <see cref="Dispose"/> or a failed check: nothing parks any more. Guarded by <see cref="_sync"/>.</summary>
    private bool _closed;

    /// <summary>Set by <see cref="ShouldAllFinish"/>: participants run their code only from then on, so that every
    /// participant is registered before the first one can park (otherwise a fast first participant would find itself
    /// alone, be released at once, and finish before the second one even exists). Guarded by <see cref="_sync"/>.</summary>
    private bool _go;

    private LockWatch() => _scope = KataLock.Observe(this);

    /// <summary>Starts watching the locks of the current test's threads started from now on.</summary>
    public static LockWatch Start() => new();

    /// <summary>Runs <paramref name="body"/> as a participant on its own <see cref="LearnerThread"/>. The body starts
    /// when <see cref="ShouldAllFinish"/> is called: register every participant first.</summary>
    /// <param name="label">Names the participant in messages, e.g. "transfer A→B"; unique within the watch.</param>
    /// <param name="body">The learner code to run.</param>
    /// <param name="park">Where to park it, once.</param>
    /// <param name="after">Another participant's label: <paramref name="body"/> starts only once that one is parked
    /// (or finished). Until then this participant counts as running, which keeps the other one parked.</param>
    public LearnerThread Run(string label, Action body, Park park = default, string? after = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return Run<object?>(label, () =>
        {
            body();
            return null;
        }, park, after);
    }

    /// <summary>Like <see cref="Run(string, Action, Park, string?)"/>, for code that returns a value.</summary>
    public LearnerThread Run<T>(string label, Func<T> body, Park park = default, string? after = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        var participant = new Participant(label, park);
        lock (_sync)
        {
            if (_participants.Exists(p => p.Label == label))
            {
                throw new ArgumentException($"Two participants are called '{label}'.", nameof(label));
            }

            _participants.Add(participant);
        }

        return LearnerThread.Start(label, () =>
        {
            lock (_sync)
            {
                participant.Thread = Thread.CurrentThread;
                Monitor.PulseAll(_sync);
            }

            try
            {
                WaitForGo();
                if (after is not null)
                {
                    WaitUntilParkedOrFinished(after);
                }

                return body();
            }
            finally
            {
                lock (_sync)
                {
                    participant.Finished = true;
                    Monitor.PulseAll(_sync);
                }
            }
        });
    }

    /// <summary>Renames the participant running on the calling thread, for participants that learn only at run time
    /// what they will do (e.g. "transfer C→A").</summary>
    public void Relabel(string label)
    {
        lock (_sync)
        {
            Participant me = _participants.Single(p => p.Thread == Thread.CurrentThread);
            me.Label = label;
        }
    }

    /// <summary>The locks the participant <paramref name="label"/> has taken so far, in order (a lock taken twice is
    /// listed twice).</summary>
    public IReadOnlyList<KataLock> AcquiredBy(string label)
    {
        lock (_sync)
        {
            return [.. Find(label).Acquired];
        }
    }

    /// <summary>Every time the participant <paramref name="label"/> asked for a lock that another thread held (so it
    /// had to wait for it), with that lock's name and the holder's label or thread name.</summary>
    public IReadOnlyList<(string Lock, string Holder)> WaitsOf(string label)
    {
        lock (_sync)
        {
            return [.. _waitsOnHeldLocks.Where(w => w.Waiter == label).Select(w => (w.Lock, w.Holder))];
        }
    }

    /// <summary>Every time the participant <paramref name="label"/>'s TryEnter gave up: the lock, the timeout it had
    /// asked for, and the locks it held at that moment.</summary>
    public IReadOnlyList<(string Lock, TimeSpan Timeout, string[] Held)> GiveUpsOf(string label)
    {
        lock (_sync)
        {
            return [.. _giveUps.Where(g => g.Label == label).Select(g => (g.Lock, g.Timeout, g.Held))];
        }
    }

    /// <summary>
    /// Waits until every thread in <paramref name="threads"/> has finished. Fails at once, naming the cycle, as soon
    /// as the wait-for graph has one ("Deadlock: transfer A→B holds A and waits for B while ...: ..."), and with a
    /// description of every participant if they are still not done at the deadline. A stub's
    /// <see cref="NotImplementedException"/> is rethrown as it is, first. Other exceptions are left to the caller.
    /// </summary>
    /// <param name="threads">The threads to wait for: participants, or a thread that runs a whole dinner.</param>
    /// <param name="diagnosis">What to do about a deadlock, in the learner's terms.</param>
    /// <param name="deadline">Default <see cref="Deadlines.Hang"/>.</param>
    /// <param name="failFast">Checked while waiting: a message here fails the test at once (for a bug that shows
    /// as soon as something starts to wait, rather than after a deadline).</param>
    public void ShouldAllFinish(
        IReadOnlyList<LearnerThread> threads, string diagnosis, TimeSpan? deadline = null, Func<string?>? failFast = null)
    {
        ArgumentNullException.ThrowIfNull(threads);
        lock (_sync)
        {
            _go = true;
            Monitor.PulseAll(_sync);
        }

        TimeSpan limit = deadline ?? Deadlines.Hang;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            foreach (LearnerThread thread in threads.Where(t => t.IsFinished && t.Exception is NotImplementedException))
            {
                thread.RethrowIfFailed();
            }

            if (threads.All(t => t.IsFinished))
            {
                return;
            }

            string? cycle = DescribeDeadlock();
            if (cycle is not null)
            {
                Close();
                Assert.Fail($"Deadlock: {cycle}: {diagnosis}");
            }

            string? abandoned = DescribeAbandonedLock();
            if (abandoned is not null)
            {
                Close();
                Assert.Fail(
                    $"Deadlock: {abandoned}. A lock must be released on every path out of the code that took it, exceptions " +
                    "included: Exit in a finally.");
            }

            if (failFast?.Invoke() is { } failure)
            {
                Close();
                Assert.Fail(failure);
            }

            if (clock.Elapsed > limit)
            {
                Close();
                string stuck = string.Join(", ", threads.Where(t => !t.IsFinished).Select(t => t.Name));
                Assert.Fail(
                    $"Deadlock suspected: {stuck} still not finished after {Deadlines.Describe(limit)}. {DescribeParticipants()} " +
                    $"{diagnosis}");
            }

            // FirstOrDefault: the last thread may finish between the checks above and this line.
            threads.FirstOrDefault(t => !t.IsFinished)?.TryJoin(TimeSpan.FromMilliseconds(2));
        }
    }

    /// <summary>A cycle in the wait-for graph, described ("philosopher 0 holds fork 0 and waits for fork 1, ..."), or
    /// <see langword="null"/>. Only waits without a timeout count: a TryEnter will give up by itself.</summary>
    public string? DescribeDeadlock()
    {
        lock (_sync)
        {
            foreach (Thread start in _waiting.Keys)
            {
                var path = new List<Thread>();
                Thread? current = start;
                while (current is not null && !path.Contains(current))
                {
                    if (!_waiting.TryGetValue(current, out var wait) || !wait.Forever
                        || !_owners.TryGetValue(wait.Lock, out Thread? owner) || owner == current)
                    {
                        current = null;
                        break;
                    }

                    path.Add(current);
                    current = owner;
                }

                if (current is not null)
                {
                    List<Thread> cycle = path.Skip(path.IndexOf(current)).ToList();

                    // Start with the participant registered first, so that messages read the same on every run.
                    int first = cycle.IndexOf(cycle.MinBy(RegistrationOrder)!);
                    cycle = [.. cycle.Skip(first), .. cycle.Take(first)];
                    string[] parts = cycle
                        .Select(t => $"{NameOf(t)} holds {DescribeHeld(t)} and waits for {_waiting[t].Lock.Name}")
                        .ToArray();
                    return parts.Length == 2
                        ? $"{parts[0]} while {parts[1]}"
                        : string.Join(", ", parts[..^1]) + ", and " + parts[^1];
                }
            }

            return null;
        }
    }

    /// <summary>A thread waiting forever for a lock held by a thread that has ended, described, or
    /// <see langword="null"/>. A monitor whose owner ended is never released: the wait can only last forever.</summary>
    public string? DescribeAbandonedLock()
    {
        lock (_sync)
        {
            foreach ((Thread waiter, (KataLock Lock, bool Forever) wait) in _waiting)
            {
                if (wait.Forever && _owners.TryGetValue(wait.Lock, out Thread? owner) && owner != waiter && !owner.IsAlive)
                {
                    return $"{NameOf(waiter)} waits for {wait.Lock.Name}, which is held by {NameOf(owner)}, a thread that has ended " +
                           "without releasing it: nobody can ever release it now";
                }
            }

            return null;
        }
    }

    /// <summary>Releases every parked participant and stops parking; the observer becomes a no-op.</summary>
    public void Dispose()
    {
        Close();
        _scope.Dispose();
    }

    void IKataLockObserver.Acquiring(KataLock kataLock, TimeSpan timeout)
    {
        lock (_sync)
        {
            if (_closed)
            {
                return;
            }

            Thread me = Thread.CurrentThread;
            Participant? participant = Me();
            if (participant is not null)
            {
                participant.Attempts++;
                if (participant.Park.Before && participant.Park.Nth == participant.Attempts)
                {
                    ParkHere(participant);
                }

                if (_owners.TryGetValue(kataLock, out Thread? owner) && owner != me)
                {
                    _waitsOnHeldLocks.Add((participant.Label, kataLock.Name, NameOf(owner)));
                }
            }

            _waiting[me] = (kataLock, timeout == Timeout.InfiniteTimeSpan);
            _asked[me] = timeout;
            Monitor.PulseAll(_sync);
        }
    }

    void IKataLockObserver.Acquired(KataLock kataLock)
    {
        lock (_sync)
        {
            if (_closed)
            {
                return;
            }

            Thread me = Thread.CurrentThread;
            _waiting.Remove(me);
            _owners[kataLock] = me;
            Participant? participant = Me();
            if (participant is not null)
            {
                participant.Acquired.Add(kataLock);
                if (!participant.Park.Before && participant.Park.Nth == participant.Acquired.Count)
                {
                    ParkHere(participant);
                }
            }

            Monitor.PulseAll(_sync);
        }
    }

    void IKataLockObserver.GaveUp(KataLock kataLock)
    {
        lock (_sync)
        {
            Thread me = Thread.CurrentThread;
            if (!_closed && Me() is { } participant)
            {
                string[] held = [.. _owners.Where(o => o.Value == me).Select(o => o.Key.Name)];
                _giveUps.Add((participant.Label, kataLock.Name, _asked.GetValueOrDefault(me), held));
            }

            _waiting.Remove(me);
            Monitor.PulseAll(_sync);
        }
    }

    void IKataLockObserver.Releasing(KataLock kataLock)
    {
        lock (_sync)
        {
            if (_owners.TryGetValue(kataLock, out Thread? owner) && owner == Thread.CurrentThread)
            {
                _owners.Remove(kataLock);
            }

            Monitor.PulseAll(_sync);
        }
    }

    private void Close()
    {
        lock (_sync)
        {
            _closed = true;
            Monitor.PulseAll(_sync);
        }
    }

    /// <summary>Parks the calling participant until every participant is parked, blocked on a held lock, or finished;
    /// then releases all parked participants together. Caller holds <see cref="_sync"/>. A participant that keeps
    /// running (spinning, or waiting on something other than a KataLock) only delays the release until the deadline.</summary>
    private void ParkHere(Participant participant)
    {
        participant.Parked = true;
        Monitor.PulseAll(_sync);
        int generation = _releases;
        var clock = Stopwatch.StartNew();
        while (!_closed && generation == _releases)
        {
            if (NobodyCanGoOn())
            {
                _releases++;
                break;
            }

            TimeSpan left = Deadlines.Hang - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                participant.GateExpired = true;
                break;
            }

            Monitor.Wait(_sync, left);
        }

        participant.Parked = false;
        Monitor.PulseAll(_sync);
    }

    private void WaitForGo()
    {
        lock (_sync)
        {
            var clock = Stopwatch.StartNew();
            while (!_go && !_closed && clock.Elapsed < Deadlines.WholeTest)
            {
                Monitor.Wait(_sync, TimeSpan.FromSeconds(1));
            }
        }
    }

    private void WaitUntilParkedOrFinished(string label)
    {
        lock (_sync)
        {
            Participant other = Find(label);
            var clock = Stopwatch.StartNew();
            while (!_closed && !other.Parked && !other.Finished)
            {
                TimeSpan left = Deadlines.Hang - clock.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    return;
                }

                Monitor.Wait(_sync, left);
            }
        }
    }

    /// <summary>Whether every participant is parked, finished, or waiting for a lock another thread holds. Caller
    /// holds <see cref="_sync"/>.</summary>
    private bool NobodyCanGoOn() =>
        _participants.TrueForAll(p =>
            p.Parked || p.Finished
            || (p.Thread is not null && _waiting.TryGetValue(p.Thread, out var wait)
                && ((_owners.TryGetValue(wait.Lock, out Thread? owner) && owner != p.Thread)
                    || (wait.Lock.Owner is { } realOwner && realOwner != p.Thread))));

    private Participant? Me() => _participants.Find(p => p.Thread == Thread.CurrentThread);

    private Participant Find(string label) =>
        _participants.Find(p => p.Label == label) ?? throw new ArgumentException($"No participant is called '{label}'.", nameof(label));

    private int RegistrationOrder(Thread thread)
    {
        int index = _participants.FindIndex(p => p.Thread == thread);
        return index < 0 ? int.MaxValue : index;
    }

    private string NameOf(Thread thread) =>
        _participants.Find(p => p.Thread == thread)?.Label ?? thread.Name ?? $"thread #{thread.ManagedThreadId}";

    /// <summary>The locks <paramref name="thread"/> holds, in the order it took them where known. Caller holds
    /// <see cref="_sync"/>.</summary>
    private string DescribeHeld(Thread thread)
    {
        IEnumerable<KataLock> held = _owners.Where(o => o.Value == thread).Select(o => o.Key);
        if (_participants.Find(p => p.Thread == thread) is { } participant)
        {
            held = participant.Acquired.Where(l => _owners.TryGetValue(l, out Thread? o) && o == thread).Distinct();
        }

        string[] names = held.Select(l => l.Name).ToArray();
        return names.Length == 0 ? "no lock" : string.Join(" and ", names);
    }

    private string DescribeParticipants()
    {
        lock (_sync)
        {
            IEnumerable<string> states = _participants.Select(p =>
            {
                if (p.Finished)
                {
                    return $"{p.Label} finished";
                }

                if (p.Thread is null)
                {
                    return $"{p.Label} never started";
                }

                string state = $"{p.Label} holds {DescribeHeld(p.Thread)}";
                if (_waiting.TryGetValue(p.Thread, out var wait))
                {
                    state += $" and waits for {wait.Lock.Name}" + (wait.Lock.Owner is { } owner ? $" (held by {NameOf(owner)})" : "");
                }
                else
                {
                    state += p.Parked ? ", parked by the test" : " and is running (not waiting for any KataLock)";
                }

                if (p.GateExpired)
                {
                    state += " (it was released from its park only by the deadline: some thread kept running)";
                }

                return state;
            });
            IEnumerable<string> others = _waiting
                .Where(w => !_participants.Exists(p => p.Thread == w.Key))
                .Take(6)
                .Select(w => $"{NameOf(w.Key)} holds {DescribeHeld(w.Key)} and waits for {w.Value.Lock.Name}" +
                             (w.Value.Lock.Owner is { } owner ? $" (held by {NameOf(owner)})" : ""));
            string all = string.Join("; ", states.Concat(others));
            return all.Length == 0 ? "" : $"State: {all}.";
        }
    }

    /// <summary>One thread the watch schedules. Every field is guarded by the watch's <see cref="_sync"/>.</summary>
    private sealed class Participant(string label, Park park)
    {
        public string Label { get; set; } = label;

        public Park Park { get; } = park;

        public Thread? Thread { get; set; }

        public bool Parked { get; set; }

        public bool Finished { get; set; }

        public bool GateExpired { get; set; }

        public int Attempts { get; set; }

        public List<KataLock> Acquired { get; } = [];
    }
}
