using System.Threading.Channels;

namespace ConcurrencyKata;

/// <summary>
/// Steps 2 to 4: the article's hybrid pattern (fetch with threads, crunch with processes) as a streaming pipeline.
/// A fetch stage fetches at most <see cref="PipelineOptions.MaxConcurrentFetches"/> URLs at once and writes each
/// payload into a bounded channel of <see cref="PipelineOptions.BufferCapacity"/>; a crunch stage of
/// <see cref="PipelineOptions.MaxConcurrentCrunches"/> loops reads the channel and crunches each payload with the
/// <see cref="ICruncher"/>. Crunching starts as soon as the first payload arrives, not after the last.
/// </summary>
/// <remarks>
/// <para>Back-pressure: when the crunchers fall behind, the channel fills, writers wait, and so the fetch stage
/// stops fetching. Fetched payloads not yet crunched are never more than
/// <c>BufferCapacity + MaxConcurrentFetches</c> (the channel plus one payload per fetch slot waiting to be written).</para>
/// <para>A failing URL or a failing crunch fails only its own item. Cancellation stops both stages and
/// <see cref="RunAsync"/> ends with <see cref="OperationCanceledException"/>. A stage that fails with something that
/// is not the failure of one item (a bug: an exception that <see cref="ConcurrentFetcher.FetchOneAsync"/> lets
/// through, say) stops the other stage, and <see cref="RunAsync"/> fails with that exception. Whatever happens, the
/// fetch stage completes the channel's writer (in a <c>finally</c>), so the crunch stage's loops always end.</para>
/// <para>A pipeline may run several times, also at once: each run has its own channel and results.</para>
/// </remarks>
public sealed class FetchCrunchPipeline
{
    private readonly ConcurrentFetcher _fetcher;
    private readonly ICruncher _cruncher;
    private readonly PipelineOptions _options;

    /// <summary>Creates a pipeline that fetches with <paramref name="client"/> and crunches with <paramref name="cruncher"/>.</summary>
    /// <param name="client">The HTTP client; the pipeline does not dispose it.</param>
    /// <param name="cruncher">The CPU stage; the pipeline does not dispose it.</param>
    /// <param name="options">The bounds.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range: a count below 1, a timeout of zero or less (other than
    /// <see cref="Timeout.InfiniteTimeSpan"/>). The message names the option.</exception>
    public FetchCrunchPipeline(HttpClient client, ICruncher cruncher, PipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(cruncher);
        ArgumentNullException.ThrowIfNull(options);
        if (options.BufferCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.BufferCapacity, "PipelineOptions.BufferCapacity must be at least 1.");
        }

        if (options.MaxConcurrentCrunches < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxConcurrentCrunches, "PipelineOptions.MaxConcurrentCrunches must be at least 1.");
        }

        _fetcher = new ConcurrentFetcher(client, options); // checks MaxConcurrentFetches and FetchTimeout
        _cruncher = cruncher;
        _options = options;
    }

    /// <summary>Fetches every URL and crunches every payload, streaming: each payload is crunched as soon as a
    /// cruncher is free, while other fetches are still running.</summary>
    /// <param name="urls">Absolute URLs whose bodies are numbers.</param>
    /// <param name="cancellationToken">Stops new fetches and crunches promptly. If it is cancelled already, nothing runs.</param>
    /// <returns>One result per URL, at the URL's index (<c>result[i].Index == i</c>): succeeded, fetch failed or
    /// crunch failed.</returns>
    /// <remarks>The task ends only once every fetch and every crunch of the run has ended: no request, crunch or
    /// stage of the run is still going when it completes, fails or is cancelled.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="urls"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="urls"/> contains null; nothing runs.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled (through the task); the exception carries
    /// <paramref name="cancellationToken"/>. Never a failed item: a cancelled run returns no results.</exception>
    public Task<IReadOnlyList<PipelineResult>> RunAsync(IReadOnlyList<Uri> urls, CancellationToken cancellationToken = default)
    {
        // TODO (Step 4): a token cancelled already runs nothing; pass the token to every wait; if one stage fails,
        //   cancel the other (a linked CancellationTokenSource), so neither waits for a partner that is gone.
        ArgumentNullException.ThrowIfNull(urls);
        if (urls.Any(url => url is null))
        {
            throw new ArgumentException("urls contains null.", nameof(urls));   // before anything runs
        }

        return RunStreamingAsync(urls, cancellationToken);
    }

    /// <summary>Two stages at the same time, connected by a bounded channel: the fetch stage writes each payload into
    /// it (and waits while it is full), MaxConcurrentCrunches loops read and crunch them.</summary>
    private async Task<IReadOnlyList<PipelineResult>> RunStreamingAsync(IReadOnlyList<Uri> urls, CancellationToken token)
    {
        // One slot per URL, written once, by the stage that ends that item; Task.WhenAll below makes the writes visible.
        var results = new PipelineResult[urls.Count];
        var buffer = Channel.CreateBounded<Payload>(new BoundedChannelOptions(_options.BufferCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
        });

        async Task FetchStageAsync()
        {
            try
            {
                var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentFetches, CancellationToken = token };
                await Parallel.ForEachAsync(Enumerable.Range(0, urls.Count), parallel, async (index, ct) =>
                {
                    FetchResult fetched = await _fetcher.FetchOneAsync(index, urls[index], ct);
                    if (fetched.Succeeded)
                    {
                        await buffer.Writer.WriteAsync(fetched.Payload!, ct);   // waits while full
                    }
                    else
                    {
                        results[index] = new PipelineResult(index, fetched.Url, ItemStatus.FetchFailed, null, fetched.Error);
                    }
                });
            }
            finally
            {
                buffer.Writer.TryComplete();                      // always: the readers end on it
            }
        }

        async Task CrunchStageAsync()
        {
            await foreach (Payload payload in buffer.Reader.ReadAllAsync(token))
            {
                try
                {
                    CrunchResult crunch = await _cruncher.CrunchAsync(payload, token);
                    results[payload.Index] = new PipelineResult(payload.Index, payload.Url, ItemStatus.Succeeded, crunch, null);
                }
                catch (Exception ex)
                {
                    // This payload's crunch failed: its item only, and no retry.
                    results[payload.Index] = new PipelineResult(payload.Index, payload.Url, ItemStatus.CrunchFailed, null, ex);
                }
            }
        }

        var stages = new List<Task> { FetchStageAsync() };
        for (int i = 0; i < _options.MaxConcurrentCrunches; i++)
        {
            stages.Add(CrunchStageAsync());
        }

        await Task.WhenAll(stages);
        return results;
    }
}
