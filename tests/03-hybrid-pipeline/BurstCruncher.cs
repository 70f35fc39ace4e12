using System.Collections.Concurrent;
using System.Diagnostics;

namespace ConcurrencyKata.Tests.PipelineTests;

/// <summary>
/// A cruncher that finishes its crunches two at a time, on two dedicated threads that start each pair within a few
/// hundred nanoseconds of each other, so that whatever the pipeline does right after a crunch (recording its result)
/// runs on two threads at the same instant, again and again (docs/testing.md, rules 10 and 13).
/// </summary>
/// <remarks>
/// <para>Each crunch is a task that a completer thread completes without sending its continuation to the thread
/// pool: the pipeline's code after <c>await CrunchAsync(...)</c> runs on the completer, at once.</para>
/// <para>Each completer takes one waiting crunch, says it is ready for round n, and spins until the other one is
/// ready for round n too (or, for a crunch left alone at the end of a run, until a few milliseconds have passed);
/// then both complete their crunch. A completer without a crunch sleeps, leaving its core to the rest of the pipeline.</para>
/// </remarks>
public sealed class BurstCruncher : ICruncher, IDisposable
{
    /// <summary>How long a completer with a crunch waits for its partner before it completes alone.</summary>
    private static readonly TimeSpan PartnerWait = TimeSpan.FromMilliseconds(5);

    /// <summary>How long after <see cref="Go"/> the completers pair up at all: after that, on a machine too busy to run
    /// both at once, each completes its crunches alone, so the run ends soon (docs/testing.md, rule 13).</summary>
    private static readonly TimeSpan PairingBudget = TimeSpan.FromSeconds(2);

    private readonly Stopwatch _sinceGo = new();

    private readonly ConcurrentQueue<(Payload Payload, TaskCompletionSource<CrunchResult> Completion)> _waiting = new();

    /// <summary>Counts the crunches in <see cref="_waiting"/>: a completer without one sleeps on it, leaving its core to
    /// the rest of the pipeline.</summary>
    private readonly SemaphoreSlim _available = new(0);

    /// <summary>Set by <see cref="Go"/>: until then the crunches only wait, so the test can let the pipeline fill its
    /// buffer first, and the completers then work from it alone, without waiting for the fetch stage.</summary>
    private readonly ManualResetEventSlim _go = new(false);
    private readonly LearnerThread[] _completers = new LearnerThread[2];

    /// <summary>The last round each completer is ready for (it holds a crunch and waits for its partner).</summary>
    private readonly int[] _ready = new int[2];

    /// <summary>The round the completers are in: both wait for each other in the same round.</summary>
    private int _round = 1;

    private int _started;
    private int _pairs;
    private volatile bool _stopping;

    /// <summary>Starts the two completer threads.</summary>
    public BurstCruncher()
    {
        for (int k = 0; k < _completers.Length; k++)
        {
            int slot = k;
            _completers[k] = LearnerThread.Start($"burst completer {k + 1}", () => Complete(slot));
        }
    }

    /// <summary>Crunches started so far.</summary>
    public int Started => Volatile.Read(ref _started);

    /// <summary>How many crunches were completed together with their partner (at most two per round).</summary>
    public int Paired => Volatile.Read(ref _pairs);

    public Task<CrunchResult> CrunchAsync(Payload payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        Interlocked.Increment(ref _started);

        // No RunContinuationsAsynchronously: the caller's continuation runs on the completer that sets the result.
        var completion = new TaskCompletionSource<CrunchResult>();
        _waiting.Enqueue((payload, completion));
        _available.Release();
        return completion.Task;
    }

    /// <summary>Lets the completers start.</summary>
    public void Go()
    {
        _sinceGo.Start();
        _go.Set();
    }

    /// <summary>Stops the completers; a crunch still waiting is cancelled.</summary>
    public void Dispose()
    {
        _stopping = true;
        _go.Set();
        _available.Release(_completers.Length);
        foreach (LearnerThread completer in _completers)
        {
            completer.TryJoin();
        }

        while (_waiting.TryDequeue(out var left))
        {
            left.Completion.TrySetCanceled();
        }
    }

    private void Complete(int slot)
    {
        int other = 1 - slot;
        _go.Wait();
        while (true)
        {
            (Payload Payload, TaskCompletionSource<CrunchResult> Completion) mine;
            _available.Wait();
            if (_stopping || !_waiting.TryDequeue(out mine))
            {
                return;
            }

            // Ready for this round; wait until the partner is ready for it too (or gives up waiting for a crunch).
            int round = Volatile.Read(ref _round);
            Volatile.Write(ref _ready[slot], round);
            var clock = Stopwatch.StartNew();
            bool paired;
            TimeSpan wait = _sinceGo.Elapsed < PairingBudget ? PartnerWait : TimeSpan.Zero;
            while (!(paired = Volatile.Read(ref _ready[other]) >= round) && clock.Elapsed < wait && !_stopping)
            {
                Thread.SpinWait(20);
            }

            if (paired)
            {
                Interlocked.Increment(ref _pairs);
            }

            // One of the two moves the round on; the other one's attempt finds it moved already.
            Interlocked.CompareExchange(ref _round, round + 1, round);
            mine.Completion.SetResult(new CrunchResult(Oracle.Primes(mine.Payload.Numbers)));
        }
    }
}
