using System.Collections.Concurrent;

namespace ConcurrencyKata.Tests.PipelineTests;

/// <summary>
/// The tests' own <see cref="ICruncher"/>, in-process, so that exercise 02 is not needed: it finds primes with the
/// oracle, counts calls per payload index and crunches in progress, can fail chosen payloads, and, when gated, holds
/// every crunch until the test releases it (by index, or all). Holding is a task that waits, never a blocked thread.
/// A held crunch ends as cancelled when its token is cancelled; a cruncher created <c>slowToStop</c> takes its time
/// over it: it keeps going until the test calls <see cref="LetStop"/> (like a worker that must finish its round trip).
/// </summary>
public sealed class TestCruncher : ICruncher
{
    private readonly ConcurrentDictionary<int, int> _calls = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _gates = new();
    private readonly bool _gated;
    private readonly Func<Payload, Exception?> _failure;
    private readonly bool _slowToStop;
    private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _releasedAll;
    private int _inCrunch;
    private int _maxInCrunch;
    private int _started;
    private int _finished;
    private int _cancelled;

    /// <summary>Creates a cruncher.</summary>
    /// <param name="gated">Hold every crunch until <see cref="Release"/> or <see cref="ReleaseAll"/>.</param>
    /// <param name="failure">The exception to fail a payload with, or null to crunch it.</param>
    /// <param name="slowToStop">A held crunch whose token is cancelled keeps going until <see cref="LetStop"/>.</param>
    public TestCruncher(bool gated = false, Func<Payload, Exception?>? failure = null, bool slowToStop = false)
    {
        _gated = gated;
        _failure = failure ?? (_ => null);
        _slowToStop = slowToStop;
    }

    /// <summary>Crunches started so far.</summary>
    public int Started => Volatile.Read(ref _started);

    /// <summary>Crunches ended so far (succeeded, failed or cancelled).</summary>
    public int Finished => Volatile.Read(ref _finished);

    /// <summary>Held crunches whose token was cancelled so far.</summary>
    public int Cancelled => Volatile.Read(ref _cancelled);

    /// <summary>Crunches in progress right now.</summary>
    public int InCrunch => Volatile.Read(ref _inCrunch);

    /// <summary>The most crunches ever in progress at once.</summary>
    public int MaxInCrunch => Volatile.Read(ref _maxInCrunch);

    /// <summary>How many times the payload of input index <paramref name="index"/> was crunched.</summary>
    public int CallsFor(int index) => _calls.TryGetValue(index, out int n) ? n : 0;

    /// <summary>Input indexes crunched more than once, for messages.</summary>
    public IReadOnlyList<int> Duplicates => _calls.Where(kv => kv.Value > 1).Select(kv => kv.Key).Order().ToArray();

    /// <summary>Lets the crunch of index <paramref name="index"/> finish (now, or as soon as it starts).</summary>
    public void Release(int index) => GateOf(index).TrySetResult();

    /// <summary>Lets the cancelled crunches of a <c>slowToStop</c> cruncher, present and future, end.</summary>
    public void LetStop() => _stop.TrySetResult();

    /// <summary>Lets every crunch, present and future, finish.</summary>
    public void ReleaseAll()
    {
        _releasedAll = true;
        _stop.TrySetResult();
        foreach (TaskCompletionSource gate in _gates.Values)
        {
            gate.TrySetResult();
        }
    }

    public async Task<CrunchResult> CrunchAsync(Payload payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        _calls.AddOrUpdate(payload.Index, 1, (_, n) => n + 1);
        Interlocked.Increment(ref _started);
        int now = Interlocked.Increment(ref _inCrunch);
        int max;
        while (now > (max = Volatile.Read(ref _maxInCrunch)) && Interlocked.CompareExchange(ref _maxInCrunch, now, max) != max)
        {
        }

        try
        {
            if (_gated && !_releasedAll)
            {
                try
                {
                    await GateOf(payload.Index).Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref _cancelled);
                    if (_slowToStop)
                    {
                        await _stop.Task.ConfigureAwait(false);
                    }

                    throw;
                }
            }
            else
            {
                await Task.Yield();
            }

            if (_failure(payload) is { } failure)
            {
                throw failure;
            }

            return new CrunchResult(Oracle.Primes(payload.Numbers));
        }
        finally
        {
            Interlocked.Decrement(ref _inCrunch);
            Interlocked.Increment(ref _finished);
        }
    }

    private TaskCompletionSource GateOf(int index)
    {
        TaskCompletionSource gate = _gates.GetOrAdd(index, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_releasedAll)
        {
            gate.TrySetResult();
        }

        return gate;
    }
}

/// <summary>The tests' own prime check, independent of the learner's.</summary>
public static class Oracle
{
    public static bool IsPrime(long n)
    {
        if (n < 2)
        {
            return false;
        }

        for (long d = 2; d * d <= n; d++)
        {
            if (n % d == 0)
            {
                return false;
            }
        }

        return true;
    }

    public static long[] Primes(IEnumerable<long> numbers) => numbers.Where(IsPrime).ToArray();
}
