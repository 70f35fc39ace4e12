using BenchmarkDotNet.Attributes;

namespace ConcurrencyKata.Benchmarks;

/// <summary>
/// Exercise 05: what one grain call costs. The check in-process, beside the same check as a call to a warm
/// <see cref="IPrimeWorkerGrain"/> on a one-silo cluster in this process (serialized, sent over loopback TCP to the
/// silo's gateway, scheduled, answered), and beside exercise 02's pipe round trip to a warm worker process.
/// </summary>
public class GrainCallBenchmarks
{
    private BenchmarkCluster? _cluster;
    private IPrimeWorkerGrain? _worker;
    private PrimePool? _pool;

    /// <summary>The number checked: a field, so the JIT cannot fold the in-process check into a constant.</summary>
    private long _n = 7;

    [GlobalSetup]
    public void Start()
    {
        _n = 7;
        _cluster = BenchmarkCluster.Start(1);
        _worker = _cluster.Client.GetGrain<IPrimeWorkerGrain>(1);
        _worker.CheckAsync([_n]).GetAwaiter().GetResult();
        _pool = WarmPool.Start(1);
    }

    [GlobalCleanup]
    public void Stop()
    {
        _pool?.Dispose();
        _cluster?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public bool InProcess() => Primes.IsPrime(_n);

    /// <summary>One grain call and its answer: the per-call overhead of the distributed map.</summary>
    [Benchmark]
    public bool GrainCall() => _worker!.CheckAsync([_n]).GetAwaiter().GetResult().Verdicts[0];

    /// <summary>Exercise 02's round trip to a warm worker process, for comparison.</summary>
    [Benchmark]
    public bool PipeRoundTrip() => _pool!.IsPrimeAsync(_n).GetAwaiter().GetResult();
}
