using BenchmarkDotNet.Attributes;

namespace ConcurrencyKata.Benchmarks;

/// <summary>
/// The article's CPU-bound claim, reproduced in .NET: checking large primes sequentially, on one thread per core,
/// and on the same threads under a simulated global interpreter lock (each thread must hold one global lock to
/// compute, and gives it up every few thousand steps, as CPython's GIL does every 5 ms). In CPython the threaded
/// version is no faster than the sequential one; in .NET plain threads scale with the cores, and only the
/// simulated GIL brings back what Python users see.
/// </summary>
public class CpuBoundBenchmarks
{
    /// <summary>The article's four numbers, scaled up so each check takes milliseconds: primes near 10^13
    /// (and composites with a large smallest factor), sixteen of them.</summary>
    public static readonly long[] Numbers = BuildNumbers();

    /// <summary>The global lock of the simulated interpreter.</summary>
    private static readonly object s_gil = new();

    /// <summary>Trial divisions done between two releases of the simulated GIL.</summary>
    private const int GilSlice = 20_000;

    [Benchmark(Baseline = true)]
    public int Sequential() => Numbers.Count(n => IsPrime(n, gil: false));

    [Benchmark]
    public int Threads() => OnThreads(gil: false);

    [Benchmark]
    public int ThreadsUnderSimulatedGil() => OnThreads(gil: true);

    /// <summary>Trial division over odd divisors up to the square root; with <paramref name="gil"/>, only while
    /// holding the simulated GIL, released every <see cref="GilSlice"/> divisions.</summary>
    public static bool IsPrime(long n, bool gil)
    {
        if (n < 2)
        {
            return false;
        }

        if (n % 2 == 0)
        {
            return n == 2;
        }

        long limit = (long)Math.Sqrt(n);
        for (long from = 3; from <= limit; from += 2L * GilSlice)
        {
            long to = Math.Min(limit, from + (2L * GilSlice) - 2);
            if (gil ? CheckSliceHoldingGil(n, from, to) : CheckSlice(n, from, to))
            {
                return false;
            }
        }

        return true;
    }

    private static bool CheckSliceHoldingGil(long n, long from, long to)
    {
        lock (s_gil)
        {
            return CheckSlice(n, from, to);
        }
    }

    private static bool CheckSlice(long n, long from, long to)
    {
        for (long d = from; d <= to; d += 2)
        {
            if (n % d == 0)
            {
                return true;
            }
        }

        return false;
    }

    private static int OnThreads(bool gil)
    {
        int workers = Environment.ProcessorCount;
        int primes = 0;
        var threads = Enumerable.Range(0, workers).Select(w => new Thread(() =>
        {
            int mine = 0;
            for (int i = w; i < Numbers.Length; i += workers)
            {
                if (IsPrime(Numbers[i], gil))
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

    private static long[] BuildNumbers()
    {
        var numbers = new List<long>();
        for (long n = 10_000_000_000_001; numbers.Count < 16; n += 2)
        {
            if (IsPrime(n, gil: false))
            {
                numbers.Add(n);
            }
        }

        return [.. numbers];
    }
}
