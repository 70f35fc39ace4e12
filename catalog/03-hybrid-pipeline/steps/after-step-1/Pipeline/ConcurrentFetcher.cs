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
    private readonly HttpClient _client;

    /// <summary>The permits: one per request in flight. Its count never exceeds
    /// <see cref="PipelineOptions.MaxConcurrentFetches"/>, because every fetch that took one gives it back exactly once,
    /// in a <c>finally</c>.</summary>
    private readonly SemaphoreSlim _permits;

    /// <summary>Creates a fetcher that sends its requests with <paramref name="client"/>.</summary>
    /// <param name="client">The client; the fetcher does not dispose it.</param>
    /// <param name="options">The bounds; only <see cref="PipelineOptions.MaxConcurrentFetches"/> and
    /// <see cref="PipelineOptions.FetchTimeout"/> matter here.</param>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="PipelineOptions.MaxConcurrentFetches"/> is less than 1, or
    /// <see cref="PipelineOptions.FetchTimeout"/> is zero or negative (other than <see cref="Timeout.InfiniteTimeSpan"/>).</exception>
    public ConcurrentFetcher(HttpClient client, PipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxConcurrentFetches < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxConcurrentFetches,
                "PipelineOptions.MaxConcurrentFetches must be at least 1.");
        }

        if (options.FetchTimeout <= TimeSpan.Zero && options.FetchTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.FetchTimeout,
                "PipelineOptions.FetchTimeout must be more than zero (or Timeout.InfiniteTimeSpan).");
        }

        _client = client;
        Options = options;
        _permits = new SemaphoreSlim(options.MaxConcurrentFetches, options.MaxConcurrentFetches);
    }

    /// <summary>The bounds this fetcher was created with.</summary>
    public PipelineOptions Options { get; }

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
        ArgumentNullException.ThrowIfNull(urls);
        if (urls.Any(url => url is null))
        {
            throw new ArgumentException("urls contains null.", nameof(urls));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IReadOnlyList<FetchResult>>(cancellationToken); // nothing to fetch, even for no URLs
        }

        // One task per URL, all started now: the permits, not this loop, bound the requests in flight.
        var fetches = new Task<FetchResult>[urls.Count];
        for (int i = 0; i < urls.Count; i++)
        {
            fetches[i] = FetchOneAsync(i, urls[i], cancellationToken);
        }

        return WhenAllAsync(fetches);

        static async Task<IReadOnlyList<FetchResult>> WhenAllAsync(Task<FetchResult>[] fetches) => await Task.WhenAll(fetches);
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
    public async Task<FetchResult> FetchOneAsync(int index, Uri url, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        await _permits.WaitAsync(cancellationToken);          // a permit per request in flight
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.FetchTimeout);        // this request's own deadline
            try
            {
                using var response = await _client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                response.EnsureSuccessStatusCode();
                string body = await response.Content.ReadAsStringAsync(timeout.Token);
                return new FetchResult(index, url, Payload.Parse(index, url, body), null);
            }
            catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(ex.Message, ex, cancellationToken);   // the caller's: carry its token
            }
            catch (OperationCanceledException ex)
            {
                // The timeout: HttpClient reports it as TaskCanceledException; name it for what it is.
                return new FetchResult(index, url, null,
                    new TimeoutException($"No complete answer from {url} within {Options.FetchTimeout} (PipelineOptions.FetchTimeout).", ex));
            }
            catch (HttpRequestException ex)
            {
                return new FetchResult(index, url, null, ex); // a status code that is not a success, a refused connection...
            }
            catch (FormatException ex)
            {
                return new FetchResult(index, url, null, ex); // a body that is not numbers
            }
        }
        finally
        {
            _permits.Release();                               // on every path
        }
    }
}
