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
    // TODO (Step 2): the PrimePool (your own, from exercise 02).

    /// <summary>Creates a cruncher with a pool of at most <paramref name="maxWorkers"/> worker processes (started on demand).</summary>
    /// <param name="maxWorkers">The most worker processes at once; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxWorkers"/> is less than 1.</exception>
    public PrimePoolCruncher(int maxWorkers)
    {
        // TODO (Step 2): create the pool.
        throw new NotImplementedException("Step 2 (exercise 03): implement the PrimePoolCruncher constructor. See Step 2 in exercises/03-hybrid-pipeline/README.md.");
    }

    /// <summary>The process ids of the pool's live workers (see <see cref="PrimePool.WorkerProcessIds"/>).</summary>
    public IReadOnlyList<int> WorkerProcessIds =>
        // TODO (Step 2)
        throw new NotImplementedException("Step 2 (exercise 03): implement PrimePoolCruncher.WorkerProcessIds. See Step 2 in exercises/03-hybrid-pipeline/README.md.");

    /// <summary>Finds the primes among the payload's numbers, in a worker process.</summary>
    /// <param name="payload">The payload.</param>
    /// <param name="cancellationToken">Cancels the request to the pool.</param>
    /// <returns>The primes, in payload order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="payload"/> is null.</exception>
    /// <exception cref="WorkerCrashedException">The worker died while it had this payload (through the task).</exception>
    public Task<CrunchResult> CrunchAsync(Payload payload, CancellationToken cancellationToken)
    {
        // TODO (Step 2): MapAsync(payload.Numbers, chunkSize: payload.Numbers.Count, cancellationToken) (an empty
        // payload needs no worker); keep the numbers whose verdict is true. Let a WorkerCrashedException through.
        throw new NotImplementedException("Step 2 (exercise 03): implement CrunchAsync. See Step 2 in exercises/03-hybrid-pipeline/README.md.");
    }

    /// <summary>Ends every worker process (see <see cref="PrimePool.Dispose"/>).</summary>
    public void Dispose()
    {
        // TODO (Step 2)
        throw new NotImplementedException("Step 2 (exercise 03): implement PrimePoolCruncher.Dispose. See Step 2 in exercises/03-hybrid-pipeline/README.md.");
    }

    /// <summary>Ends every worker process without blocking a thread (see <see cref="PrimePool.DisposeAsync"/>).</summary>
    /// <returns>A task that completes when every worker has exited.</returns>
    public ValueTask DisposeAsync()
    {
        // TODO (Step 2)
        throw new NotImplementedException("Step 2 (exercise 03): implement PrimePoolCruncher.DisposeAsync. See Step 2 in exercises/03-hybrid-pipeline/README.md.");
    }
}
