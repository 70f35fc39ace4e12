namespace ConcurrencyKata.Tests.PipelineTests;

/// <summary>
/// Step 4: cancellation stops both stages promptly with OperationCanceledException; a token cancelled already runs
/// nothing; the pipeline always completes, whatever fails. Cancellation is forced while fetches are held at the server
/// and while crunches are held in the cruncher, with the buffer full.
/// </summary>
[Step(4)]
[TestFixture]
[NonParallelizable]
public sealed class Step4_CancellationAndFailure : PipelineTest
{
    private const string NotPrompt =
        "Cancellation must stop the pipeline promptly: RunAsync ends with OperationCanceledException. Pass the token to every " +
        "wait: the permit (WaitAsync), GetAsync and reading the body, WriteAsync(payload, token) into the channel, ReadAllAsync, " +
        "and CrunchAsync.";

    [Test]
    public void A_token_that_is_already_cancelled_runs_nothing()
    {
        TestCruncher cruncher = NewCruncher();
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options());
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        TaskExpectations.ThrowsOrFails<OperationCanceledException>(() => pipeline.RunAsync(NumberUrls(4), cancelled.Token),
            "RunAsync with a token that is already cancelled ends at once with OperationCanceledException.");
        Settle.OneSided();
        Server.Requests.ShouldBe(0, "A token that is already cancelled runs nothing: not one request. Check the token before you start.");
        cruncher.Started.ShouldBe(0, "A token that is already cancelled runs nothing: not one crunch.");
    }

    [Test]
    public void Cancelling_stops_new_fetches_promptly()
    {
        TestCruncher cruncher = NewCruncher();
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 1, buffer: 2, crunches: 1));
        Uri[] urls = Enumerable.Range(0, 10).Select(i => Server.Gated($"g{i}", i)).ToArray();
        using var source = new CancellationTokenSource();

        Task<IReadOnlyList<PipelineResult>> run = pipeline.RunAsync(urls, source.Token);
        Server.ShouldReachInFlight(1, "The first fetch never reached the server.");
        Cancellation.CancelOnOwnThread(source);

        ShouldEndCancelled(run, NotPrompt);
        Settle.OneSided();
        Server.Requests.ShouldBe(1, $"After cancellation no new fetch may start, but {Server.InFlightReport()}. {NotPrompt}");
        Poll.Until(() => Server.InFlight == 0,
            "The fetch in flight when the token was cancelled is still open at the server: pass the token to GetAsync, so the request is aborted.");
        cruncher.Started.ShouldBe(0, "Nothing was fetched, so nothing may be crunched.");
    }

    [Test]
    public void Cancelling_while_the_crunchers_are_busy_and_the_buffer_is_full_ends_the_run()
    {
        TestCruncher cruncher = NewCruncher(gated: true);
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 2, buffer: 1, crunches: 1));
        Uri[] urls = NumberUrls(12);
        using var source = new CancellationTokenSource();

        Task<IReadOnlyList<PipelineResult>> run = pipeline.RunAsync(urls, source.Token);
        Poll.Until(() => cruncher.Started >= 1, "The crunch stage never started a crunch.");
        Poll.Until(() => Server.Requests >= 3, $"The fetch stage stopped early ({Server.InFlightReport()}).");
        Settle.OneSided(); // the buffer fills, and fetch slots wait in WriteAsync

        Cancellation.CancelOnOwnThread(source);

        ShouldEndCancelled(run,
            "Cancelled while the only crunch was held and the buffer was full, RunAsync never ended. A fetch slot waiting for room in the " +
            "channel must give up when cancelled: WriteAsync(payload, token); the crunch in progress must be told: CrunchAsync(payload, token). " +
            NotPrompt);
        int fetched = Server.Requests;
        Settle.OneSided();
        Server.Requests.ShouldBe(fetched, $"After cancellation no new fetch may start. {NotPrompt}");
        cruncher.Started.ShouldBe(1, $"After cancellation no new crunch may start. {NotPrompt}");
    }

    [Test]
    public void The_pipeline_completes_when_every_fetch_fails()
    {
        TestCruncher cruncher = NewCruncher();
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 2, buffer: 1, crunches: 2));
        Uri[] urls = [Server.Status(500), Server.Status(502), Server.Status(404)];

        IReadOnlyList<PipelineResult> results = Run(pipeline, urls);

        ShouldHaveOneResultPerUrl(results, urls);
        results.ShouldAllBe(r => r.Status == ItemStatus.FetchFailed, "Every fetch failed: every item is FetchFailed.");
        cruncher.Started.ShouldBe(0, "Nothing was fetched, so nothing is crunched.");
    }

    private static void ShouldEndCancelled(Task run, string diagnosis)
    {
        bool ended;
        try
        {
            ended = run.Wait(Deadlines.Hang);
        }
        catch (AggregateException)
        {
            ended = true;
        }

        if (!ended)
        {
            Assert.Fail($"RunAsync has not ended {Deadlines.Describe(Deadlines.Hang)} after its token was cancelled. {diagnosis}");
        }

        if (run.IsCanceled)
        {
            return;
        }

        Exception? failure = run.Exception?.InnerException;
        if (failure is NotImplementedException)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }

        (failure is OperationCanceledException).ShouldBeTrue(
            (failure is null ? "RunAsync completed normally" : $"RunAsync failed with {failure.GetType().Name} (\"{failure.Message}\")") +
            $" after its token was cancelled; it must end with OperationCanceledException. {diagnosis}");
    }
}

/// <summary>
/// Step 4, on real processes: a worker of PrimePoolCruncher that crashes mid-crunch surfaces within seconds as a
/// CrunchFailed item with WorkerCrashedException; the run completes, and the rest of the batch is crunched by the
/// replacement worker. Needs exercise 02.
/// </summary>
[Step(4)]
[TestFixture]
[NonParallelizable]
public sealed class Step4_CrashedWorker : PipelineTest
{
    [Test]
    public void A_crashed_worker_fails_its_item_with_a_clear_error_within_seconds()
    {
        PrimePoolCruncher cruncher = PrimePools.NewCruncher(1);
        try
        {
            var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 2, buffer: 2, crunches: 1));

            // Item 0 takes the only worker minutes of trial division; the others are held at the server until it has crashed.
            long[] huge = Enumerable.Repeat(9_223_372_036_854_775_783L, 50).ToArray();
            Uri[] urls = [Server.Numbers(huge), Server.Gated("after", 7, 8, 9), Server.Gated("after", 10, 11, 13)];
            Task<IReadOnlyList<PipelineResult>> run = pipeline.RunAsync(urls);

            IReadOnlyList<int> workers = [];
            Poll.Until(() => (workers = PrimePools.Workers(cruncher)).Count == 1 || run.IsCompleted,
                "The first payload never reached a worker process of PrimePoolCruncher.");
            run.IsCompleted.ShouldBeFalse("RunAsync completed before its held URLs were answered.");
            ChildProcesses.Kill(workers[0]);
            Server.Open("after");

            IReadOnlyList<PipelineResult> results = run.ShouldComplete(
                "A worker that crashed mid-crunch must surface as a failed item within seconds, not hang the run. " + RunNeverEnded,
                diagnosisIfFailed: RunFailed);
            ShouldHaveOneResultPerUrl(results, urls);
            results[0].Status.ShouldBe(ItemStatus.CrunchFailed,
                $"The worker crunching item 0 crashed, but the item is {results[0].Status}: a crash must surface as a clear error " +
                "(CrunchFailed, with the WorkerCrashedException), never be swallowed into an empty result.");
            results[0].Error.ShouldBeOfType<WorkerCrashedException>(
                "A crashed worker surfaces as WorkerCrashedException (with its process id and exit code), passed through unchanged.")
                .ProcessId.ShouldBe(workers[0], "The WorkerCrashedException names the process that died.");
            ShouldHaveSucceeded(results, 1, [7, 8, 9]);
            ShouldHaveSucceeded(results, 2, [10, 11, 13]);
        }
        finally
        {
            PrimePools.Dispose(cruncher);
        }
    }
}
