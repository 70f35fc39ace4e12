using BenchmarkDotNet.Attributes;

namespace ConcurrencyKata.Benchmarks;

/// <summary>
/// Exercise 05: what distribution costs before it pays. The same batch (<see cref="Count"/> numbers near 10^9, about
/// 10 µs of trial division each) checked on threads in this process, in exercise 02's <see cref="PrimePool"/> (one
/// worker process per core), and with exercise 05's <see cref="DistributedPrimeMap"/> on an Orleans cluster of one and
/// of three silos (in this process, talking TCP over 127.0.0.1). On one machine the silos share its cores: a cluster
/// adds serialization, sockets and scheduling to the same work, and pays only when there are more machines.
/// </summary>
/// <remarks>Built with the KataTarget switch: <c>-p:KataTarget=exercises</c> measures your own grain and map.</remarks>
public class DistributedMapBenchmarks
{
    /// <summary>Numbers per operation.</summary>
    public const int Count = 20_000;

    /// <summary>Numbers per chunk (per grain call, per pool message, per thread work item).</summary>
    public const int ChunkSize = 1_000;

    /// <summary>The batch: <see cref="Count"/> consecutive numbers from 10^9.</summary>
    internal static readonly long[] Numbers = [.. Enumerable.Range(0, Count).Select(i => 1_000_000_000L + i)];

    private PrimePool? _pool;
    private BenchmarkCluster? _oneSilo;
    private BenchmarkCluster? _threeSilos;
    private DistributedPrimeMap? _mapOnOne;
    private DistributedPrimeMap? _mapOnThree;

    [GlobalSetup]
    public void Start()
    {
        _pool = WarmPool.Start(Environment.ProcessorCount);
        _oneSilo = BenchmarkCluster.Start(1);
        _threeSilos = BenchmarkCluster.Start(3);
        var options = new DistributedMapOptions { ChunkSize = ChunkSize, MaxChunksInFlight = 8 };
        _mapOnOne = new DistributedPrimeMap(_oneSilo.Client, options);
        _mapOnThree = new DistributedPrimeMap(_threeSilos.Client, options);
    }

    [GlobalCleanup]
    public void Stop()
    {
        _pool?.Dispose();
        _threeSilos?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _oneSilo?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>One thread per core, chunks of <see cref="ChunkSize"/>: the work, and nothing else.</summary>
    [Benchmark(Baseline = true)]
    public int Threads()
    {
        int primes = 0;
        Parallel.For(0, Count / ChunkSize, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, chunk =>
        {
            int found = 0;
            for (int i = chunk * ChunkSize; i < (chunk + 1) * ChunkSize; i++)
            {
                found += Primes.IsPrime(Numbers[i]) ? 1 : 0;
            }

            Interlocked.Add(ref primes, found);
        });
        return primes;
    }

    /// <summary>Exercise 02: a warm pool of one worker process per core, the same chunks over pipes.</summary>
    [Benchmark]
    public int PrimePoolProcesses() => _pool!.MapAsync(Numbers, ChunkSize).GetAwaiter().GetResult().Count(v => v);

    /// <summary>Exercise 05 on one silo: the same chunks as grain calls, over loopback TCP.</summary>
    [Benchmark]
    public int OrleansOneSilo() => _mapOnOne!.MapAsync(Numbers).GetAwaiter().GetResult().Verdicts.Count(v => v);

    /// <summary>Exercise 05 on three silos, sharing the same two cores.</summary>
    [Benchmark]
    public int OrleansThreeSilos() => _mapOnThree!.MapAsync(Numbers).GetAwaiter().GetResult().Verdicts.Count(v => v);
}
