namespace ConcurrencyKata;

/// <summary>
/// Steps 2 to 4: a map over a cluster, the .NET counterpart of Dask's <c>client.map</c> or a list of Ray futures.
/// It cuts the numbers into chunks of <see cref="DistributedMapOptions.ChunkSize"/>, sends each chunk to an
/// <see cref="IPrimeWorkerGrain"/> (a grain call is a future: a message to whichever silo the grain runs on), keeps at
/// most <see cref="DistributedMapOptions.MaxChunksInFlight"/> calls in flight, and puts every verdict back at its
/// input index.
/// </summary>
/// <remarks>
/// <para>Placement (Step 3): every attempt at a chunk calls a worker grain id of its own. A client sends all calls for
/// one grain id through the same gateway silo, and a stateless worker runs on the silo that receives the call; so one
/// id for everything would keep the whole map on one silo, and an id per call spreads the chunks over every gateway.</para>
/// <para>Partial failure (Step 4): an attempt that does not answer within <see cref="DistributedMapOptions.ChunkTimeout"/>,
/// or whose silo is lost, is tried again with a new id, so by a new route; after
/// <see cref="DistributedMapOptions.MaxAttempts"/> lost attempts the map fails with <see cref="TimeoutException"/>.
/// Retries are at-least-once (a lost attempt may still have run, or may still be running), the result is not: each
/// chunk's verdicts are written once, from the one attempt whose answer the map took. Any other failure of a chunk
/// (the grain threw) fails the map at once with that exception, without a retry.</para>
/// <para>Every member is thread-safe; one map may run several <see cref="MapAsync"/> calls at once.</para>
/// </remarks>
public sealed class DistributedPrimeMap
{
    // TODO (Step 2): the grain factory and the options.
    // TODO (Step 3): the last worker grain id handed out (a long, advanced with Interlocked.Increment): an id per attempt.

    /// <summary>Creates a map that sends its chunks to worker grains through <paramref name="grains"/>.</summary>
    /// <param name="grains">The cluster, seen from here: an <c>IClusterClient</c> outside the cluster, or a grain's
    /// <c>GrainFactory</c> inside it. The map does not dispose it.</param>
    /// <param name="options">Chunk size, bound on calls in flight, timeout and attempts per chunk.</param>
    /// <exception cref="ArgumentNullException"><paramref name="grains"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range: a count below 1, a timeout of zero or less.</exception>
    public DistributedPrimeMap(IGrainFactory grains, DistributedMapOptions options)
    {
        // TODO (Step 2): check the arguments and every option (ArgumentNullException, ArgumentOutOfRangeException), keep them.
        throw new NotImplementedException("Step 2 (exercise 05): implement the DistributedPrimeMap constructor. See Step 2 in exercises/05-distributed-map/README.md.");
    }

    /// <summary>The options this map was created with.</summary>
    public DistributedMapOptions Options =>
        // TODO (Step 2)
        throw new NotImplementedException("Step 2 (exercise 05): implement DistributedPrimeMap.Options. See Step 2 in exercises/05-distributed-map/README.md.");

    /// <summary>Checks every number on the cluster, one chunk per grain call, at most
    /// <see cref="DistributedMapOptions.MaxChunksInFlight"/> calls at once.</summary>
    /// <param name="numbers">The numbers; may be empty (no call is made).</param>
    /// <param name="cancellationToken">Stops the map promptly: no chunk is sent after it fires, and the calls in
    /// flight are cancelled. If it is cancelled already, nothing is sent.</param>
    /// <returns>One verdict per number in input order, and one report per chunk in input order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="numbers"/> is null.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled (through the task).</exception>
    /// <exception cref="TimeoutException">A chunk was lost <see cref="DistributedMapOptions.MaxAttempts"/> times
    /// (through the task).</exception>
    /// <remarks>A chunk that fails for another reason (the grain threw) fails the map with that exception, as it is,
    /// and the other chunks are cancelled.</remarks>
    public Task<MapResult> MapAsync(IReadOnlyList<long> numbers, CancellationToken cancellationToken = default)
    {
        // TODO (Step 2): check the argument; cut the numbers into chunks of ChunkSize (the last one may be partial: round
        // the count up); send each chunk to _grains.GetGrain<IPrimeWorkerGrain>(id).CheckAsync(chunk), at most
        // MaxChunksInFlight at once (Parallel.ForEachAsync with MaxDegreeOfParallelism, or a SemaphoreSlim); copy each
        // chunk's verdicts to its offset in one bool[]; one ChunkReport per chunk. A chunk that fails fails the map.
        // TODO (Step 3): a grain id of its own for every call (Interlocked.Increment), so the calls spread over the silos.
        // TODO (Step 4): a token cancelled already sends nothing; each attempt its own deadline (a CancellationTokenSource
        // linked to the map's token, CancelAfter(ChunkTimeout), passed to CheckAsync); a lost attempt (that deadline, or
        // SiloUnavailableException, OrleansMessageRejectionException, ConnectionFailedException, TimeoutException) is tried
        // again with a new id, up to MaxAttempts, then TimeoutException; any other exception fails the map at once.
        throw new NotImplementedException("Step 2 (exercise 05): implement MapAsync. See Step 2 in exercises/05-distributed-map/README.md.");
    }
}
