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
    // TODO (Step 2): a ConcurrentFetcher (Step 1) for the fetches, the cruncher, the options.

    /// <summary>Creates a pipeline that fetches with <paramref name="client"/> and crunches with <paramref name="cruncher"/>.</summary>
    /// <param name="client">The HTTP client; the pipeline does not dispose it.</param>
    /// <param name="cruncher">The CPU stage; the pipeline does not dispose it.</param>
    /// <param name="options">The bounds.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range: a count below 1, a timeout of zero or less (other than
    /// <see cref="Timeout.InfiniteTimeSpan"/>). The message names the option.</exception>
    public FetchCrunchPipeline(HttpClient client, ICruncher cruncher, PipelineOptions options)
    {
        // TODO (Step 2): check every argument and option, keep them.
        throw new NotImplementedException("Step 2 (exercise 03): implement the FetchCrunchPipeline constructor. See Step 2 in exercises/03-hybrid-pipeline/README.md.");
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
        // TODO (Step 2): check the arguments (a null URL too); fetch every URL, crunch every payload with the cruncher, one
        //   PipelineResult per URL at its index: Succeeded (with the CrunchResult), FetchFailed or CrunchFailed (with the
        //   exception). Two phases are fine here. The results are a local of the run: runs may overlap.
        // TODO (Step 3): stream instead: a Channel.CreateBounded<Payload>(BufferCapacity) between a fetch stage
        //   (Parallel.ForEachAsync with MaxDegreeOfParallelism = MaxConcurrentFetches; WriteAsync each payload) and
        //   MaxConcurrentCrunches reader loops (await foreach over ReadAllAsync), all given the caller's token. Complete
        //   the writer in a finally. Each result in its own slot (results[payload.Index]): the loops record at once.
        // TODO (Step 4): a crunch cancelled with the run is no CrunchFailed item (rethrow it); one linked
        //   CancellationTokenSource for both stages, cancelled when a stage fails; await every stage together
        //   (Task.WhenAll); a cancellation comes out carrying the caller's token.
        throw new NotImplementedException("Step 2 (exercise 03): implement RunAsync. See Step 2 in exercises/03-hybrid-pipeline/README.md.");
    }
}
