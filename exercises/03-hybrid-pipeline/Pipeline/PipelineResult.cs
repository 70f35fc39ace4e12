// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
namespace ConcurrencyKata;

/// <summary>How one item of the pipeline ended.</summary>
public enum ItemStatus
{
    /// <summary>Fetched and crunched: <see cref="PipelineResult.Crunch"/> holds the result.</summary>
    Succeeded,

    /// <summary>The fetch failed (status code, timeout, bad body): never crunched. <see cref="PipelineResult.Error"/> says why.</summary>
    FetchFailed,

    /// <summary>Fetched, but the cruncher failed (a crashed worker, say). <see cref="PipelineResult.Error"/> says why.</summary>
    CrunchFailed,
}

/// <summary>The outcome of one input URL in <see cref="FetchCrunchPipeline.RunAsync"/>.</summary>
/// <param name="Index">The URL's position in the input list.</param>
/// <param name="Url">The URL.</param>
/// <param name="Status">How the item ended.</param>
/// <param name="Crunch">The crunch result if <paramref name="Status"/> is <see cref="ItemStatus.Succeeded"/>, else null.</param>
/// <param name="Error">The failure if the item failed, else null.</param>
public sealed record PipelineResult(int Index, Uri Url, ItemStatus Status, CrunchResult? Crunch, Exception? Error);
