using System.Diagnostics;
using System.Globalization;
using Orleans.Runtime.Messaging;

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
    private readonly IGrainFactory _grains;

    /// <summary>The last worker grain id handed out. Each attempt takes the next one (Interlocked.Increment), from
    /// whichever map call and thread: a fresh id is a fresh route through the cluster.</summary>
    private long _lastWorkerId;

    /// <summary>Creates a map that sends its chunks to worker grains through <paramref name="grains"/>.</summary>
    /// <param name="grains">The cluster, seen from here: an <c>IClusterClient</c> outside the cluster, or a grain's
    /// <c>GrainFactory</c> inside it. The map does not dispose it.</param>
    /// <param name="options">Chunk size, bound on calls in flight, timeout and attempts per chunk.</param>
    /// <exception cref="ArgumentNullException"><paramref name="grains"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range: a count below 1, a timeout of zero or less.</exception>
    public DistributedPrimeMap(IGrainFactory grains, DistributedMapOptions options)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(options);
        if (options.ChunkSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ChunkSize, "DistributedMapOptions.ChunkSize must be at least 1.");
        }

        if (options.MaxChunksInFlight < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxChunksInFlight, "DistributedMapOptions.MaxChunksInFlight must be at least 1.");
        }

        if (options.ChunkTimeout <= TimeSpan.Zero && options.ChunkTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ChunkTimeout,
                "DistributedMapOptions.ChunkTimeout must be more than zero (or Timeout.InfiniteTimeSpan).");
        }

        if (options.MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxAttempts, "DistributedMapOptions.MaxAttempts must be at least 1.");
        }

        _grains = grains;
        Options = options;
    }

    /// <summary>The options this map was created with.</summary>
    public DistributedMapOptions Options { get; }

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
        ArgumentNullException.ThrowIfNull(numbers);
        return MapCoreAsync(numbers, cancellationToken);
    }

    private async Task<MapResult> MapCoreAsync(IReadOnlyList<long> numbers, CancellationToken cancellationToken)
    {
        // A token cancelled already sends nothing.
        cancellationToken.ThrowIfCancellationRequested();

        int chunkSize = Options.ChunkSize;
        int chunkCount = (numbers.Count + chunkSize - 1) / chunkSize;   // the last chunk may be partial: round up

        // Each slot is written once, by the one body that finished its chunk, from the attempt whose answer it took.
        // Slots are distinct, so no lock is needed; awaiting the loop publishes them to this thread.
        var verdicts = new bool[numbers.Count];
        var reports = new ChunkReport?[chunkCount];

        // MaxDegreeOfParallelism is the back-pressure: the next chunk is sent only when a call in flight has ended.
        // The loop stops sending at the first failure, or when the caller's token fires.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.MaxChunksInFlight, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, chunkCount), parallel, async (index, token) =>
        {
            int offset = index * chunkSize;
            int count = Math.Min(chunkSize, numbers.Count - offset);
            long[] chunk = new long[count];
            for (int i = 0; i < count; i++)
            {
                chunk[i] = numbers[offset + i];
            }

            (ChunkResult result, int attempts) = await CheckWithRetriesAsync(offset, chunk, token).ConfigureAwait(false);

            // A wrong answer is never passed on as a right one.
            if (result.Verdicts is null || result.Verdicts.Length != count)
            {
                throw new InvalidOperationException(
                    $"A worker answered {result.Verdicts?.Length ?? 0} verdicts for the chunk at offset {offset.ToString(CultureInfo.InvariantCulture)}, " +
                    $"which holds {count.ToString(CultureInfo.InvariantCulture)} numbers.");
            }

            Array.Copy(result.Verdicts, 0, verdicts, offset, count);
            Debug.Assert(reports[index] is null, "Each chunk's result is taken exactly once.");
            reports[index] = new ChunkReport(offset, count, result.Silo, attempts);
        }).ConfigureAwait(false);

        AssertInvariants(reports, numbers.Count);
        return new MapResult(verdicts, reports.Select(r => r!).ToArray());
    }

    /// <summary>Tries one chunk until an attempt answers: a lost attempt (timed out, or its silo gone) is tried again
    /// with a new grain id; any other failure, and the caller's cancellation, end it at once.</summary>
    private async Task<(ChunkResult Result, int Attempts)> CheckWithRetriesAsync(int offset, long[] chunk, CancellationToken mapToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            // A grain id of its own: a new route through the gateways, so a retry does not follow the lost attempt.
            IPrimeWorkerGrain worker = _grains.GetGrain<IPrimeWorkerGrain>(Interlocked.Increment(ref _lastWorkerId));

            // This attempt's own deadline. The silo holding it may be gone, and then nothing else ever answers.
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(mapToken);
            deadline.CancelAfter(Options.ChunkTimeout);
            try
            {
                return (await worker.CheckAsync(chunk, deadline.Token).ConfigureAwait(false), attempt);
            }
            catch (OperationCanceledException) when (mapToken.IsCancellationRequested)
            {
                throw; // the caller cancelled, or another chunk failed: not a lost attempt
            }
            catch (Exception ex) when (IsLost(ex, deadline))
            {
                if (attempt >= Options.MaxAttempts)
                {
                    throw new TimeoutException(
                        $"The chunk at offset {offset.ToString(CultureInfo.InvariantCulture)} ({chunk.Length.ToString(CultureInfo.InvariantCulture)} numbers) " +
                        $"was lost {attempt.ToString(CultureInfo.InvariantCulture)} times: no answer within " +
                        $"{Options.ChunkTimeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms, or its silo was gone " +
                        "(DistributedMapOptions.ChunkTimeout, MaxAttempts).", ex);
                }

                // Lost, not failed: the next attempt goes out at once, with a new id.
            }
        }
    }

    /// <summary>Whether an attempt was lost on the way (worth another attempt elsewhere), as opposed to failed by the
    /// worker itself (an exception the grain threw, which a retry would only repeat).</summary>
    private static bool IsLost(Exception exception, CancellationTokenSource deadline) => exception switch
    {
        OperationCanceledException => deadline.IsCancellationRequested,    // this attempt's own timeout
        TimeoutException => true,                                          // Orleans' response timeout
        OrleansMessageRejectionException => true,                          // SiloUnavailableException among them
        ConnectionFailedException => true,                                 // no connection to the gateway
        GatewayTooBusyException => true,
        _ => false,
    };

    /// <summary>Checks, in debug builds, that the chunks cover every index exactly once, in order.</summary>
    [Conditional("DEBUG")]
    private static void AssertInvariants(ChunkReport?[] reports, int count)
    {
        int next = 0;
        foreach (ChunkReport? report in reports)
        {
            Debug.Assert(report is not null, "Every chunk ends with a report: nothing is lost.");
            Debug.Assert(report.Offset == next, "The chunks follow one another without a gap or an overlap.");
            Debug.Assert(report.Attempts >= 1, "A chunk took at least one attempt.");
            next += report.Count;
        }

        Debug.Assert(next == count, "The chunks cover every number.");
    }
}
