using System.Globalization;

namespace ConcurrencyKata;

/// <summary>
/// Steps 2 to 4: a map over a cluster, the .NET counterpart of Dask's <c>client.map</c> or a list of Ray futures.
/// After Step 2: chunks, a bounded fan-out, verdicts at their offsets, on one grain id.
/// </summary>
public sealed class DistributedPrimeMap
{
    private readonly IGrainFactory _grains;

    /// <summary>Creates a map that sends its chunks to worker grains through <paramref name="grains"/>.</summary>
    /// <param name="grains">The cluster, seen from here.</param>
    /// <param name="options">Chunk size, bound on calls in flight, timeout and attempts per chunk.</param>
    /// <exception cref="ArgumentNullException"><paramref name="grains"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public DistributedPrimeMap(IGrainFactory grains, DistributedMapOptions options)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ChunkSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxChunksInFlight, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAttempts, 1, nameof(options));
        if (options.ChunkTimeout <= TimeSpan.Zero && options.ChunkTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ChunkTimeout, "ChunkTimeout must be more than zero.");
        }

        _grains = grains;
        Options = options;
    }

    /// <summary>The options this map was created with.</summary>
    public DistributedMapOptions Options { get; }

    /// <summary>Checks every number on the cluster, one chunk per grain call, at most MaxChunksInFlight calls at once.</summary>
    /// <param name="numbers">The numbers.</param>
    /// <param name="cancellationToken">Stops the map.</param>
    /// <returns>One verdict per number in input order, and one report per chunk in input order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="numbers"/> is null.</exception>
    public Task<MapResult> MapAsync(IReadOnlyList<long> numbers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(numbers);
        return MapCoreAsync(numbers, cancellationToken);
    }

    private async Task<MapResult> MapCoreAsync(IReadOnlyList<long> numbers, CancellationToken cancellationToken)
    {
        int chunkSize = Options.ChunkSize;
        int chunkCount = (numbers.Count + chunkSize - 1) / chunkSize;   // round up: the last chunk may be partial
        var verdicts = new bool[numbers.Count];
        var reports = new ChunkReport[chunkCount];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.MaxChunksInFlight, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, chunkCount), parallel, async (index, token) =>
        {
            int offset = index * chunkSize;
            int count = Math.Min(chunkSize, numbers.Count - offset);
            long[] chunk = numbers.Skip(offset).Take(count).ToArray();
            ChunkResult result = await _grains.GetGrain<IPrimeWorkerGrain>(0).CheckAsync(chunk, token);
            if (result.Verdicts.Length != count)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{result.Verdicts.Length} verdicts for {count} numbers."));
            }

            Array.Copy(result.Verdicts, 0, verdicts, offset, count);   // at its offset: input order
            reports[index] = new ChunkReport(offset, count, result.Silo, 1);
        });
        return new MapResult(verdicts, reports);
    }
}
