// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
namespace ConcurrencyKata;

/// <summary>
/// The bounds of a <see cref="ConcurrentFetcher"/> and a <see cref="FetchCrunchPipeline"/>. Plain data: the
/// fetcher's and the pipeline's constructors check it and throw <see cref="ArgumentOutOfRangeException"/> for a
/// value out of range, with a message that names the option (e.g. <c>PipelineOptions.BufferCapacity must be at least 1.</c>).
/// </summary>
public sealed record PipelineOptions
{
    /// <summary>The most HTTP requests in flight at once; at least 1. Default 4.</summary>
    public int MaxConcurrentFetches { get; init; } = 4;

    /// <summary>How long one request may take once it has its permit, from sending it to reading the whole body; more
    /// than zero, or <see cref="Timeout.InfiniteTimeSpan"/> for no timeout at all. Each request has its own: waiting for
    /// a permit does not count, and one slow URL never shortens another's. A request that takes longer becomes a failed
    /// result with a <see cref="TimeoutException"/> (never a cancellation). Default 10 s.</summary>
    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many fetched payloads may wait between the stages (the channel's capacity); at least 1.
    /// Default 4.</summary>
    public int BufferCapacity { get; init; } = 4;

    /// <summary>The most payloads being crunched at once; at least 1. Default <see cref="Environment.ProcessorCount"/>.</summary>
    public int MaxConcurrentCrunches { get; init; } = Environment.ProcessorCount;
}
