// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
namespace ConcurrencyKata;

/// <summary>
/// The knobs of a <see cref="DistributedPrimeMap"/>. Plain data: the map's constructor checks it and throws
/// <see cref="ArgumentOutOfRangeException"/> for a value out of range.
/// </summary>
public sealed record DistributedMapOptions
{
    /// <summary>How many numbers go to a worker in one grain call; at least 1. Bigger chunks: fewer messages, less
    /// overhead per number; smaller chunks: finer balancing, and less work lost with a silo. Default 1000.</summary>
    public int ChunkSize { get; init; } = 1000;

    /// <summary>The most chunk calls in flight at once, across the whole cluster: the back-pressure of the map
    /// (the next chunk is sent only when an answer came back). At least 1. Default 8.</summary>
    public int MaxChunksInFlight { get; init; } = 8;

    /// <summary>How long one attempt at a chunk may take before it counts as lost and is tried again: more than zero,
    /// or <see cref="Timeout.InfiniteTimeSpan"/>. A silo that dies while it holds a chunk may never answer, and
    /// nothing else tells the caller. Default 30 s.</summary>
    public TimeSpan ChunkTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many times a chunk is tried in all before the map gives up with a
    /// <see cref="TimeoutException"/>, when its attempts are lost (timed out, or their silo gone); at least 1.
    /// Default 3.</summary>
    public int MaxAttempts { get; init; } = 3;
}
