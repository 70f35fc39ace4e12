namespace ConcurrencyKata.Benchmarks;

/// <summary>Starts a <see cref="PrimePool"/> outside the timed region and warms it up, so a benchmark measures a
/// long-lived pool, not its workers' start-up and first JIT.</summary>
internal static class WarmPool
{
    /// <summary>A pool of <paramref name="workers"/> workers that have all started and answered.</summary>
    public static PrimePool Start(int workers)
    {
        var pool = new PrimePool(workers);
        // Four small requests per worker at once: every worker starts and JIT-compiles its loop.
        pool.MapAsync(Enumerable.Repeat(7L, workers * 4).ToArray()).GetAwaiter().GetResult();
        return pool;
    }
}
