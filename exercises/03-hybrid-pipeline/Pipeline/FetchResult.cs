// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
namespace ConcurrencyKata;

/// <summary>The outcome of fetching one URL: its payload, or why there is none.</summary>
/// <param name="Index">The URL's position in the input list.</param>
/// <param name="Url">The URL.</param>
/// <param name="Payload">The payload if the fetch succeeded, else null.</param>
/// <param name="Error">Why the fetch failed (an <see cref="HttpRequestException"/> for a status code that is
/// not a success, a <see cref="TimeoutException"/> when <see cref="PipelineOptions.FetchTimeout"/> ran out, a
/// <see cref="FormatException"/> for a body that is not numbers...), else null.</param>
public sealed record FetchResult(int Index, Uri Url, Payload? Payload, Exception? Error)
{
    /// <summary>Whether the fetch succeeded (there is a payload and no error).</summary>
    public bool Succeeded => Error is null && Payload is not null;
}
