namespace ConcurrencyKata;

/// <summary>
/// Step 1: fetches URLs over HTTP, several at once but never more than
/// <see cref="PipelineOptions.MaxConcurrentFetches"/>: the I/O half of the article's hybrid pattern (its
/// <c>ThreadPoolExecutor(max_workers=...)</c> of downloads), with async I/O instead of threads.
/// </summary>
/// <remarks>
/// <para>Every fetch, from whichever method or thread, takes one of the fetcher's permits (a
/// <see cref="SemaphoreSlim"/>) before it sends its request, and gives it back when it is done, whether it
/// succeeded, failed or was cancelled. So the bound holds for the fetcher as a whole.</para>
/// <para>A fetch that fails does not throw: it becomes a <see cref="FetchResult"/> with an error, so one bad URL
/// never loses the others. A fetch fails when the request or its body fails: a status code that is not a success, no
/// connection, a broken connection, <see cref="PipelineOptions.FetchTimeout"/> running out, a body that is not numbers
/// (<see cref="HttpRequestException"/>, <see cref="IOException"/>, <see cref="TimeoutException"/>,
/// <see cref="FormatException"/>, <see cref="InvalidOperationException"/>). Anything else thrown while fetching is not
/// the URL's failure but a bug (in a message handler of the client, say): it is not swallowed, it escapes.</para>
/// <para>Cancellation by the caller's token throws <see cref="OperationCanceledException"/> carrying that token; it
/// is never reported as a timeout or as a failed result.</para>
/// </remarks>
#pragma warning disable CA1001 // Its SemaphoreSlim never creates a wait handle (no AvailableWaitHandle): nothing to dispose.
public sealed class ConcurrentFetcher
#pragma warning restore CA1001
{
    // TODO (Step 1): the client, the options, and the permits: a SemaphoreSlim(MaxConcurrentFetches,
    // MaxConcurrentFetches). Document what the permits guard (the number of requests in flight).

    /// <summary>Creates a fetcher that sends its requests with <paramref name="client"/>.</summary>
    /// <param name="client">The client; the fetcher does not dispose it.</param>
    /// <param name="options">The bounds; only <see cref="PipelineOptions.MaxConcurrentFetches"/> and
    /// <see cref="PipelineOptions.FetchTimeout"/> matter here.</param>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="PipelineOptions.MaxConcurrentFetches"/> is less than 1, or
    /// <see cref="PipelineOptions.FetchTimeout"/> is zero or negative (other than <see cref="Timeout.InfiniteTimeSpan"/>).</exception>
    public ConcurrentFetcher(HttpClient client, PipelineOptions options)
    {
        // TODO (Step 1): check the arguments (ArgumentNullException, ArgumentOutOfRangeException), keep them, create the permits.
        throw new NotImplementedException("Step 1 (exercise 03): implement the ConcurrentFetcher constructor. See Step 1 in exercises/03-hybrid-pipeline/README.md.");
    }

    /// <summary>The bounds this fetcher was created with.</summary>
    public PipelineOptions Options =>
        // TODO (Step 1)
        throw new NotImplementedException("Step 1 (exercise 03): implement ConcurrentFetcher.Options. See Step 1 in exercises/03-hybrid-pipeline/README.md.");

    /// <summary>Fetches every URL, at most <see cref="PipelineOptions.MaxConcurrentFetches"/> at once.</summary>
    /// <param name="urls">Absolute URLs; their bodies are numbers (see <see cref="Payload.Parse"/>).</param>
    /// <param name="cancellationToken">Stops every fetch: waiting ones never start, running ones are aborted.</param>
    /// <returns>One result per URL, at the URL's index: <c>result[i].Index == i</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="urls"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="urls"/> contains null; nothing is fetched.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled (through the task); the exception carries
    /// <paramref name="cancellationToken"/>.</exception>
    public Task<IReadOnlyList<FetchResult>> FetchAllAsync(IReadOnlyList<Uri> urls, CancellationToken cancellationToken = default)
    {
        // TODO (Step 1): check the arguments (every URL, before the first fetch) and a token cancelled already; start one
        // FetchOneAsync per URL (all of them, at once: the permits bound the requests in flight, not you), then await
        // them all (Task.WhenAll) and return the results in URL order.
        throw new NotImplementedException("Step 1 (exercise 03): implement FetchAllAsync. See Step 1 in exercises/03-hybrid-pipeline/README.md.");
    }

    /// <summary>Fetches one URL: waits for a permit, sends the request, reads the body as numbers, gives the permit
    /// back. Never takes longer than <see cref="PipelineOptions.FetchTimeout"/> once it has its permit.</summary>
    /// <param name="index">The URL's position in the caller's list, copied into the result.</param>
    /// <param name="url">An absolute URL.</param>
    /// <param name="cancellationToken">Stops the fetch, also while it waits for a permit.</param>
    /// <returns>The payload, or a failed result (status code, timeout, bad body, refused connection...).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="url"/> is null.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled (through the task); the exception carries
    /// <paramref name="cancellationToken"/>.</exception>
    public Task<FetchResult> FetchOneAsync(int index, Uri url, CancellationToken cancellationToken = default)
    {
        // TODO (Step 1): await the permit (WaitAsync(cancellationToken)) before a try/finally that releases it (a wait
        //   that was cancelled took no permit, and must give none back); inside:
        //   a CancellationTokenSource linked to cancellationToken, with CancelAfter(FetchTimeout), armed now;
        //   GetAsync(url, ..., token), EnsureSuccessStatusCode, ReadAsStringAsync(token), Payload.Parse;
        //   a failed request or body becomes new FetchResult(index, url, null, exception) (anything else is a bug: let it
        //   out); the timeout (an OperationCanceledException while the caller's token is not cancelled) becomes a
        //   TimeoutException; the caller's cancellation is rethrown, as an OperationCanceledException carrying its token.
        throw new NotImplementedException("Step 1 (exercise 03): implement FetchOneAsync. See Step 1 in exercises/03-hybrid-pipeline/README.md.");
    }
}
