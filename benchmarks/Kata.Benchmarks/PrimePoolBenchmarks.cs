using BenchmarkDotNet.Attributes;

namespace ConcurrencyKata.Benchmarks;

/// <summary>
/// What one message to a worker process costs (exercise 02): a request's round trip to one warm worker, beside the
/// same check done in-process, and starting a worker until its first answer. The speedup on heavy work is measured
/// by <see cref="CpuBoundBenchmarks"/>; how batching pays off by <see cref="PrimePoolChunkSizeBenchmarks"/>.
/// </summary>
public class PrimePoolOverheadBenchmarks
{
    private PrimePool? _pool;

    /// <summary>The number checked: a field, so the JIT cannot fold the in-process check into a constant.</summary>
    private long _n = 7;

    [GlobalSetup]
    public void StartPool()
    {
        _n = 7;
        _pool = WarmPool.Start(1);
    }

    [GlobalCleanup]
    public void StopPool() => _pool?.Dispose();

    /// <summary>The work itself: a few nanoseconds.</summary>
    [Benchmark(Baseline = true)]
    public bool InProcess() => Primes.IsPrime(_n);

    /// <summary>The same check sent to a warm worker: a line written to its stdin, its reply read from its stdout.</summary>
    [Benchmark]
    public bool RoundTrip() => _pool!.IsPrimeAsync(_n).GetAwaiter().GetResult();

    /// <summary>The cheap numbers of <see cref="PrimePoolChunkSizeBenchmarks"/>, checked in-process on one thread:
    /// the cost per number that the sweep's chunk sizes are measured against.</summary>
    [Benchmark(OperationsPerInvoke = PrimePoolChunkSizeBenchmarks.Count)]
    public int InProcessPerCheapNumber() => PrimePoolChunkSizeBenchmarks.Numbers.Count(Primes.IsPrime);

    /// <summary>A new pool, its worker started, its first answer, and the pool disposed.</summary>
    [Benchmark]
    public bool StartAskDispose()
    {
        using var pool = new PrimePool(1);
        return pool.IsPrimeAsync(7).GetAwaiter().GetResult();
    }
}

/// <summary>
/// Exercise 02's <c>chunkSize</c>: <see cref="Count"/> cheap numbers (about 2 µs of trial division each) checked by a
/// warm pool of one worker per core, sent one number per message up to all of a worker's share in one message.
/// Too small, and the per-message cost dominates; too big, and the chunks stop balancing across the workers.
/// </summary>
public class PrimePoolChunkSizeBenchmarks
{
    /// <summary>Numbers per operation.</summary>
    public const int Count = 100_000;

    /// <summary>Every 997th number below 10^8, from the top: cheap, and a mix of primes and composites.</summary>
    internal static readonly long[] Numbers = [.. Enumerable.Range(0, Count).Select(i => 100_000_000L - (997L * i))];

    private PrimePool? _pool;

    /// <summary>Numbers per message.</summary>
    [Params(1, 10, 100, 1_000, 10_000, 50_000)]
    public int ChunkSize { get; set; }

    [GlobalSetup]
    public void StartPool()
    {
        _pool = WarmPool.Start(Environment.ProcessorCount);
    }

    [GlobalCleanup]
    public void StopPool() => _pool?.Dispose();

    [Benchmark(OperationsPerInvoke = Count)]
    public int Map() => _pool!.MapAsync(Numbers, ChunkSize).GetAwaiter().GetResult().Count(isPrime => isPrime);
}
