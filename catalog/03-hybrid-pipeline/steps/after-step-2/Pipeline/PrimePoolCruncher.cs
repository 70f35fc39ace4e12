namespace ConcurrencyKata;

/// <summary>
/// Step 2: the CPU stage on real processes. Crunches a payload by checking its numbers for primality in exercise 02's
/// <see cref="PrimePool"/>: the article's <c>ProcessPoolExecutor</c> half of the hybrid pattern. One payload goes
/// to a worker as one message (a chunk as big as the payload), so a payload costs one round trip over the pipes.
/// </summary>
/// <remarks>A worker that crashes fails the payloads in flight on it with <see cref="WorkerCrashedException"/>
/// (passed through, never swallowed: the pipeline reports that item as <see cref="ItemStatus.CrunchFailed"/>);
/// the pool replaces the worker, so the next payloads go on. Dispose ends every worker process.</remarks>
public sealed class PrimePoolCruncher : ICruncher, IDisposable, IAsyncDisposable
{
    private readonly PrimePool _pool;

    /// <summary>Creates a cruncher with a pool of at most <paramref name="maxWorkers"/> worker processes (started on demand).</summary>
    /// <param name="maxWorkers">The most worker processes at once; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxWorkers"/> is less than 1.</exception>
    public PrimePoolCruncher(int maxWorkers)
    {
        _pool = new PrimePool(maxWorkers);
    }

    /// <summary>The process ids of the pool's live workers (see <see cref="PrimePool.WorkerProcessIds"/>).</summary>
    public IReadOnlyList<int> WorkerProcessIds => _pool.WorkerProcessIds;

    /// <summary>Finds the primes among the payload's numbers, in a worker process.</summary>
    /// <param name="payload">The payload.</param>
    /// <param name="cancellationToken">Cancels the request to the pool.</param>
    /// <returns>The primes, in payload order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="payload"/> is null.</exception>
    /// <exception cref="WorkerCrashedException">The worker died while it had this payload (through the task).</exception>
    public Task<CrunchResult> CrunchAsync(Payload payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Numbers.Count == 0)
        {
            return Task.FromResult(new CrunchResult([]));
        }

        Task<IReadOnlyList<bool>> verdicts = _pool.MapAsync(payload.Numbers, payload.Numbers.Count, cancellationToken);
        return CollectAsync(payload, verdicts);

        static async Task<CrunchResult> CollectAsync(Payload payload, Task<IReadOnlyList<bool>> verdicts)
        {
            IReadOnlyList<bool> isPrime = await verdicts.ConfigureAwait(false);
            return new CrunchResult(payload.Numbers.Where((_, i) => isPrime[i]).ToArray());
        }
    }

    /// <summary>Ends every worker process (see <see cref="PrimePool.Dispose"/>).</summary>
    public void Dispose() => _pool.Dispose();

    /// <summary>Ends every worker process without blocking a thread (see <see cref="PrimePool.DisposeAsync"/>).</summary>
    /// <returns>A task that completes when every worker has exited.</returns>
    public ValueTask DisposeAsync() => _pool.DisposeAsync();
}
