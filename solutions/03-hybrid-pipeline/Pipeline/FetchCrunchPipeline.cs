using System.Diagnostics;
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
        ArgumentNullException.ThrowIfNull(cruncher);

        // The fetcher checks the client, the options themselves, MaxConcurrentFetches and FetchTimeout.
        _fetcher = new ConcurrentFetcher(client, options);
        if (options.BufferCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.BufferCapacity, "PipelineOptions.BufferCapacity must be at least 1.");
        }

        if (options.MaxConcurrentCrunches < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxConcurrentCrunches, "PipelineOptions.MaxConcurrentCrunches must be at least 1.");
        }

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
        ConcurrentFetcher.CheckUrls(urls);
        return RunCoreAsync(urls, cancellationToken);
    }

    private async Task<IReadOnlyList<PipelineResult>> RunCoreAsync(IReadOnlyList<Uri> urls, CancellationToken cancellationToken)
    {
        // A token cancelled already runs nothing: not one request, not one crunch.
        cancellationToken.ThrowIfCancellationRequested();

        // Each slot is written once, by the one stage that finishes that item: the fetch stage for a failed fetch,
        // the crunch stage for a payload. Slots are distinct, so no lock is needed; Task.WhenAll below publishes them.
        var results = new PipelineResult?[urls.Count];

        // The bounded buffer between the stages. Wait: a full channel makes the writer wait (back-pressure).
        var buffer = Channel.CreateBounded<Payload>(new BoundedChannelOptions(_options.BufferCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
        });

        // Cancelled by the caller, or by a stage that failed unexpectedly: then the other stage stops too, instead of
        // waiting forever for a reader or a writer that is gone.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        Task fetching = StopAllOnFailure(FetchStageAsync(urls, buffer.Writer, results, stop.Token), stop);
        var crunching = new Task[_options.MaxConcurrentCrunches];
        for (int i = 0; i < crunching.Length; i++)
        {
            crunching[i] = StopAllOnFailure(CrunchStageAsync(buffer.Reader, results, stop.Token), stop);
        }

        try
        {
            await Task.WhenAll([fetching, .. crunching]).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            // The stages were stopped through the linked token: the caller gets an exception that carries its own.
            throw new OperationCanceledException(ex.Message, ex, cancellationToken);
        }

        AssertInvariants(results);
        return results.Select(r => r!).ToArray();
    }

    /// <summary>The fetch stage: at most MaxConcurrentFetches fetches at once; a payload goes into the channel,
    /// a failed fetch straight into the results. Completes the writer whatever happens.</summary>
    private async Task FetchStageAsync(IReadOnlyList<Uri> urls, ChannelWriter<Payload> writer, PipelineResult?[] results, CancellationToken stop)
    {
        try
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentFetches, CancellationToken = stop };
            await Parallel.ForEachAsync(Enumerable.Range(0, urls.Count), parallel, async (index, token) =>
            {
                FetchResult fetched = await _fetcher.FetchOneAsync(index, urls[index], token).ConfigureAwait(false);
                if (fetched.Payload is { } payload && fetched.Error is null)
                {
                    // Waits while the buffer is full: this fetch slot is not free for the next URL until then.
                    await writer.WriteAsync(payload, token).ConfigureAwait(false);
                }
                else
                {
                    results[index] = new PipelineResult(index, fetched.Url, ItemStatus.FetchFailed, null, fetched.Error);
                }
            }).ConfigureAwait(false);
        }
        finally
        {
            // Always: without it, the crunch stage's ReadAllAsync would wait forever for one more payload. (If this stage
            // failed, StopAllOnFailure stops the crunch stage too, and RunAsync reports this stage's exception.)
            writer.TryComplete();
        }
    }

    /// <summary>One crunch loop: reads payloads until the channel is completed and empty; a crunch that fails
    /// fails only its item.</summary>
    private async Task CrunchStageAsync(ChannelReader<Payload> reader, PipelineResult?[] results, CancellationToken stop)
    {
        await foreach (Payload payload in reader.ReadAllAsync(stop).ConfigureAwait(false))
        {
            PipelineResult result;
            try
            {
                CrunchResult crunch = await _cruncher.CrunchAsync(payload, stop).ConfigureAwait(false);
                result = new PipelineResult(payload.Index, payload.Url, ItemStatus.Succeeded, crunch, null);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                // A crashed worker (WorkerCrashedException) or any other failure of this one payload.
                result = new PipelineResult(payload.Index, payload.Url, ItemStatus.CrunchFailed, null, ex);
            }

            Debug.Assert(results[payload.Index] is null, "Each payload is crunched exactly once.");
            results[payload.Index] = result;
        }
    }

    private static async Task StopAllOnFailure(Task stage, CancellationTokenSource stop)
    {
        try
        {
            await stage.ConfigureAwait(false);
        }
        catch
        {
            // Never leave the other stage waiting for a partner that is gone.
            await stop.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Checks, in debug builds, that a finished run has exactly one result per URL, each at its index.</summary>
    [Conditional("DEBUG")]
    private static void AssertInvariants(PipelineResult?[] results)
    {
        Debug.Assert(results.All(r => r is not null), "Every item ends with a result: nothing is lost.");
        Debug.Assert(results.Select((r, i) => r!.Index == i).All(ok => ok), "Each result sits at its URL's index.");
        Debug.Assert(results.All(r => (r!.Status == ItemStatus.Succeeded) == (r.Crunch is not null)), "Only a succeeded item has a crunch result.");
    }
}
