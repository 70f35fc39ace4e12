using BenchmarkDotNet.Attributes;

namespace ConcurrencyKata.Benchmarks;

/// <summary>
/// The article's CPU-bound claim, reproduced in .NET, and exercise 02's speedup: checking sixteen large primes
/// sequentially, on one thread per core, on the same threads under a simulated global interpreter lock, and in a
/// <see cref="PrimePool"/> of one worker process per core (warm, and including the workers' start-up).
/// </summary>
/// <remarks>
/// <para>Every column runs the same trial division, exercise 02's <see cref="Primes.IsPrime(long)"/> (the workers
/// run it too); the GIL column runs the same loop cut into slices, each computed while holding one global lock, which
/// is given up between slices as CPython's GIL is every 5 ms. In CPython the threaded version is no faster than the
/// sequential one; in .NET plain threads scale with the cores, and only the simulated GIL brings back what Python users
/// see. Processes scale too, minus their start-up and the pipe round trips.</para>
/// <para>Built with the KataTarget switch: <c>-p:KataTarget=exercises</c> measures your own IsPrime and pool.</para>
/// </remarks>
public class CpuBoundBenchmarks
{
    /// <summary>The article's four numbers near 10^7, scaled up so each check takes tens of milliseconds: the
    /// sixteen smallest primes above 10^15.</summary>
    public static readonly long[] Numbers = PrimesFrom(1_000_000_000_000_001, 16);

    /// <summary>The global lock of the simulated interpreter.</summary>
    private static readonly object s_gil = new();

    /// <summary>Candidate divisors tried between two releases of the simulated GIL (about 1 ms of work).</summary>
    private const long GilSlice = 60_000;

    /// <summary>A pool started once, whose workers have already answered: what a long-lived pool costs.</summary>
    private PrimePool? _warmPool;

    [GlobalSetup]
    public void StartPool()
    {
        _warmPool = WarmPool.Start(Environment.ProcessorCount);
    }

    [GlobalCleanup]
    public void StopPool() => _warmPool?.Dispose();

    [Benchmark(Baseline = true)]
    public int Sequential() => Numbers.Count(Primes.IsPrime);

    [Benchmark]
    public int Threads() => OnThreads(Primes.IsPrime);

    [Benchmark]
    public int ThreadsUnderSimulatedGil() => OnThreads(IsPrimeHoldingGil);

    [Benchmark]
    public int ProcessesWarm() => Count(_warmPool!.MapAsync(Numbers).GetAwaiter().GetResult());

    [Benchmark]
    public int ProcessesIncludingStartUp()
    {
        using var pool = new PrimePool(Environment.ProcessorCount);
        return Count(pool.MapAsync(Numbers).GetAwaiter().GetResult());
    }

    /// <summary>The loop of <see cref="Primes.IsPrime(long)"/> (6k ± 1 candidates up to the square root), computed
    /// only while holding the simulated GIL, given up every <see cref="GilSlice"/> candidates.</summary>
    public static bool IsPrimeHoldingGil(long n)
    {
        if (n < 5 || n % 2 == 0 || n % 3 == 0)
        {
            return Primes.IsPrime(n);
        }

        bool composite = false;
        bool done = false;
        for (long from = 5; !done; from += 6 * GilSlice)
        {
            lock (s_gil)
            {
                long to = from + (6 * GilSlice);
                for (long d = from; d < to; d += 6)
                {
                    if (d > n / d)
                    {
                        done = true;
                        break;
                    }

                    if (n % d == 0 || n % (d + 2) == 0)
                    {
                        composite = done = true;
                        break;
                    }
                }
            }
        }

        return !composite;
    }

    private static int Count(IReadOnlyList<bool> results) => results.Count(isPrime => isPrime);

    /// <summary>One dedicated thread per core, each checking every core-th number.</summary>
    private static int OnThreads(Func<long, bool> isPrime)
    {
        int workers = Environment.ProcessorCount;
        int primes = 0;
        var threads = Enumerable.Range(0, workers).Select(w => new Thread(() =>
        {
            int mine = 0;
            for (int i = w; i < Numbers.Length; i += workers)
            {
                if (isPrime(Numbers[i]))
                {
                    mine++;
                }
            }

            Interlocked.Add(ref primes, mine);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return primes;
    }

    /// <summary>The first <paramref name="count"/> primes from <paramref name="from"/> on. Uses the reference test
    /// (not the one being measured), so a broken IsPrime cannot make the workload empty or endless.</summary>
    internal static long[] PrimesFrom(long from, int count)
    {
        var numbers = new List<long>();
        for (long n = from; numbers.Count < count; n++)
        {
            if (IsPrimeReference(n))
            {
                numbers.Add(n);
            }
        }

        return [.. numbers];
    }

    private static bool IsPrimeReference(long n)
    {
        if (n < 2)
        {
            return false;
        }

        for (long d = 2; d <= n / d; d += d == 2 ? 1 : 2)
        {
            if (n % d == 0)
            {
                return false;
            }
        }

        return true;
    }
}
