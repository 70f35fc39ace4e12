namespace ConcurrencyKata.Tests.PipelineTests;

/// <summary>
/// Step 2: FetchCrunchPipeline crunches every fetched payload with the ICruncher it is given, and reports every item:
/// succeeded, fetch failed, or crunch failed. These tests supply their own in-process cruncher, so exercise 02 is not
/// needed here (see Step2_PrimePoolCruncher for the real processes).
/// </summary>
[Step(2)]
[TestFixture]
[NonParallelizable]
public sealed class Step2_Crunch : PipelineTest
{
    [Test]
    public void Bad_arguments_are_rejected_and_the_pipeline_stays_usable()
    {
        TestCruncher cruncher = NewCruncher();
        const string Rule =
            "The constructor checks the options: MaxConcurrentFetches, BufferCapacity and MaxConcurrentCrunches at least 1, FetchTimeout " +
            "more than zero; else ArgumentOutOfRangeException.";
        Expect.Throws<ArgumentOutOfRangeException>(() => new FetchCrunchPipeline(Client, cruncher, Options(fetches: 0)), Rule);
        Expect.Throws<ArgumentOutOfRangeException>(() => new FetchCrunchPipeline(Client, cruncher, Options(buffer: 0)), Rule)
            .Message.ShouldContain("BufferCapacity", Case.Sensitive,
                "The constructor checks the options, and the exception says which one is wrong: its message names BufferCapacity.");
        Expect.Throws<ArgumentOutOfRangeException>(() => new FetchCrunchPipeline(Client, cruncher, Options(crunches: 0)), Rule)
            .Message.ShouldContain("MaxConcurrentCrunches", Case.Sensitive,
                "The constructor checks the options, and the exception says which one is wrong: its message names MaxConcurrentCrunches.");
        Expect.Throws<ArgumentOutOfRangeException>(() => new FetchCrunchPipeline(Client, cruncher, Options(crunches: -3)), Rule);
        Expect.Throws<ArgumentOutOfRangeException>(() => new FetchCrunchPipeline(Client, cruncher, Options(timeout: TimeSpan.Zero)), Rule);
        Expect.Throws<ArgumentNullException>(() => new FetchCrunchPipeline(null!, cruncher, Options()), "A null client throws ArgumentNullException.");
        Expect.Throws<ArgumentNullException>(() => new FetchCrunchPipeline(Client, null!, Options()), "A null cruncher throws ArgumentNullException.");
        Expect.Throws<ArgumentNullException>(() => new FetchCrunchPipeline(Client, cruncher, null!), "Null options throw ArgumentNullException.");

        // Timeout.InfiniteTimeSpan is allowed: no timeout at all.
        (HttpClient client, TestHandler handler) = NewClient();
        FetchCrunchPipeline pipeline;
        try
        {
            pipeline = new FetchCrunchPipeline(client, cruncher, Options(timeout: Timeout.InfiniteTimeSpan));
        }
        catch (ArgumentOutOfRangeException rejected)
        {
            Assert.Fail(
                "FetchTimeout = Timeout.InfiniteTimeSpan was rejected, but the options allow it: more than zero, or InfiniteTimeSpan " +
                $"for no timeout at all (\"{rejected.Message}\").");
            return;
        }

        TaskExpectations.ThrowsOrFails<ArgumentNullException>(() => pipeline.RunAsync(null!), "RunAsync(null) throws ArgumentNullException.");
        TaskExpectations.ThrowsOrFails<ArgumentException>(() => pipeline.RunAsync([Server.Numbers(1), null!]),
            "RunAsync with a null URL in the list throws ArgumentException.");
        Settle.OneSided();
        Server.Requests.ShouldBe(0,
            $"A run rejected for a bad argument must not have fetched anything, but {Server.InFlightReport()}. Check every URL before you start.");
        cruncher.Started.ShouldBe(0, "A run rejected for a bad argument must not have crunched anything.");
        Run(pipeline, []).ShouldBeEmpty("No URLs, no results.");
        Uri[] urls = NumberUrls(2);
        IReadOnlyList<PipelineResult> results = Run(pipeline, urls);
        ShouldHaveOneResultPerUrl(results, urls);
        ShouldHaveSucceeded(results, 1, NumbersOf(1));
        handler.Disposed.ShouldBeFalse("The pipeline does not dispose the client it was given: the caller owns it.");
    }

    [Test]
    public void Every_payload_is_crunched_exactly_once_and_each_result_keeps_its_index()
    {
        TestCruncher cruncher = NewCruncher();
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 3, buffer: 2, crunches: 2));
        Uri[] urls = NumberUrls(12);

        // Twice on the same pipeline: each run has its own buffer and results.
        for (int run = 1; run <= 2; run++)
        {
            IReadOnlyList<PipelineResult> results = Run(pipeline, urls);
            ShouldHaveOneResultPerUrl(results, urls);
            for (int i = 0; i < urls.Length; i++)
            {
                ShouldHaveSucceeded(results, i, NumbersOf(i));
                cruncher.CallsFor(i).ShouldBe(run,
                    $"Run {run}: the payload of URL {i} was crunched {cruncher.CallsFor(i)} time(s) in all, but each payload is crunched exactly once per run.");
            }
        }
    }

    [Test]
    public void A_failed_fetch_is_reported_and_never_crunched()
    {
        TestCruncher cruncher = NewCruncher();
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 2, buffer: 2, crunches: 1, timeout: TimeSpan.FromMilliseconds(200)));
        Uri[] urls = [Server.Numbers(2, 3, 4), Server.Status(500), Server.Numbers(5, 6, 7), Server.Status(404), Server.Gated("never", 1)];

        IReadOnlyList<PipelineResult> results = pipeline.RunAsync(urls).ShouldComplete(RunNeverEnded,
            diagnosisIfFailed: RunFailed + " A fetch that timed out is a FetchFailed item with a TimeoutException, never a cancellation of the run.");

        ShouldHaveOneResultPerUrl(results, urls);
        ShouldHaveSucceeded(results, 0, [2, 3, 4]);
        ShouldHaveSucceeded(results, 2, [5, 6, 7]);
        foreach (int i in new[] { 1, 3 })
        {
            results[i].Status.ShouldBe(ItemStatus.FetchFailed, $"URL {i} answered an error status: its item is FetchFailed.");
            results[i].Error.ShouldBeOfType<HttpRequestException>($"Item {i}'s Error is the fetch's failure (HttpRequestException).");
            results[i].Crunch.ShouldBeNull("A failed fetch has no crunch result.");
            cruncher.CallsFor(i).ShouldBe(0, "A failed fetch has no payload: it is never crunched.");
        }

        results[4].Status.ShouldBe(ItemStatus.FetchFailed, "URL 4 was never answered within FetchTimeout: its item is FetchFailed.");
        results[4].Error.ShouldBeOfType<TimeoutException>("A fetch that timed out is a FetchFailed item whose Error is the TimeoutException.");
        cruncher.CallsFor(4).ShouldBe(0, "A failed fetch has no payload: it is never crunched.");
    }

    [Test]
    public void A_failed_crunch_fails_that_item_only()
    {
        var failure = new InvalidOperationException("cannot crunch this one");
        TestCruncher cruncher = NewCruncher(failure: p => p.Index == 2 ? failure : null);
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 2, buffer: 2, crunches: 2));
        Uri[] urls = NumberUrls(5);

        IReadOnlyList<PipelineResult> results = Run(pipeline, urls);

        ShouldHaveOneResultPerUrl(results, urls);
        results[2].Status.ShouldBe(ItemStatus.CrunchFailed, "The cruncher failed item 2: its item is CrunchFailed.");
        results[2].Error.ShouldBeSameAs(failure, "A CrunchFailed item's Error is the exception the cruncher failed with.");
        results[2].Crunch.ShouldBeNull("A failed crunch has no crunch result.");
        cruncher.CallsFor(2).ShouldBe(1, "Each payload is crunched exactly once: a failed crunch is reported, not retried.");
        foreach (int i in new[] { 0, 1, 3, 4 })
        {
            ShouldHaveSucceeded(results, i, NumbersOf(i));
        }
    }

    [Test]
    public void Two_runs_at_once_on_one_pipeline_each_get_their_own_results()
    {
        TestCruncher cruncher = NewCruncher();
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 2, buffer: 2, crunches: 2));
        Uri[] first = [Server.Gated("first", 11), Server.Numbers(12), Server.Numbers(13)];
        Uri[] second = [Server.Gated("second", 21), Server.Numbers(22), Server.Numbers(23), Server.Numbers(24)];

        // Both runs are in flight together: each is held at the server until the other one has started.
        Task<IReadOnlyList<PipelineResult>> runFirst = pipeline.RunAsync(first);
        Server.ShouldHold("first", 1, "The first run never fetched its first URL.");
        Task<IReadOnlyList<PipelineResult>> runSecond = pipeline.RunAsync(second);
        Server.ShouldHold("second", 1, "The second run never fetched its first URL.");

        // The second run finishes first.
        Server.Open("second");
        const string Own =
            "A pipeline may run several times at once, and each run has its own channel and its own results: keep them in locals of " +
            "RunAsync (or of the method it calls), never in fields of the pipeline, which the other run would share.";
        IReadOnlyList<PipelineResult> secondResults = runSecond.ShouldComplete(RunNeverEnded + " " + Own, diagnosisIfFailed: RunFailed + " " + Own);
        Server.Open("first");
        IReadOnlyList<PipelineResult> firstResults = runFirst.ShouldComplete(RunNeverEnded + " " + Own, diagnosisIfFailed: RunFailed + " " + Own);

        foreach ((Uri[] urls, IReadOnlyList<PipelineResult> results, string name) in new[] { (first, firstResults, "first"), (second, secondResults, "second") })
        {
            results.Count.ShouldBe(urls.Length, $"The {name} run gave {results.Count} results for {urls.Length} URLs. {Own}");
            Uri[] others = name == "first" ? second : first;
            for (int i = 0; i < urls.Length; i++)
            {
                if (others.Contains(results[i].Url))
                {
                    Assert.Fail($"Result {i} of the {name} run is for {results[i].Url}, a URL of the other run. {Own}");
                }

                results[i].Url.ShouldBe(urls[i],
                    $"Results keep their input index: result {i} of the {name} run is for {results[i].Url}, but URL {i} is {urls[i]}. Put each " +
                    "result at its payload's Index, not in the order the crunches finish.");
                results[i].Status.ShouldBe(ItemStatus.Succeeded, $"Item {i} of the {name} run should have succeeded. {Own}");
                results[i].Crunch!.Primes.ShouldBe(Oracle.Primes([long.Parse(urls[i].Segments[^1], System.Globalization.CultureInfo.InvariantCulture)]),
                    $"Item {i} of the {name} run does not hold its own primes. {Own}");
            }
        }
    }
}

/// <summary>
/// Step 2, on real processes: PrimePoolCruncher crunches in exercise 02's PrimePool. These tests need exercise 02
/// (your own, under exercises/); if it is not finished, they say so.
/// </summary>
[Step(2)]
[TestFixture]
[NonParallelizable]
public sealed class Step2_PrimePoolCruncher : PipelineTest
{
    [Test]
    public void PrimePoolCruncher_finds_the_primes_in_worker_processes()
    {
        PrimePoolCruncher cruncher = PrimePools.NewCruncher(2);
        try
        {
            var payload = new Payload(0, Server.Numbers(1), [10_000_019, 10_000_020, 2, 1, 10_000_079, 91]);
            CrunchResult result = cruncher.CrunchAsync(payload, CancellationToken.None).ShouldComplete(PrimePools.NoAnswer);
            result.Primes.ShouldBe([10_000_019L, 2, 10_000_079], "CrunchResult.Primes holds the payload's primes, in payload order.");

            IReadOnlyList<int> workers = PrimePools.Workers(cruncher);
            workers.ShouldNotBeEmpty("PrimePoolCruncher crunches in worker processes: WorkerProcessIds shows the pool's live workers.");
            workers.ShouldNotContain(Environment.ProcessId, "The crunching runs in separate processes, not in the test process.");

            PrimePools.Dispose(cruncher);
            foreach (int pid in workers)
            {
                ChildProcesses.IsRunning(pid).ShouldBeFalse($"Worker {pid} is still running after PrimePoolCruncher.Dispose: dispose the pool.");
            }
        }
        finally
        {
            PrimePools.Dispose(cruncher);
        }
    }

    [Test]
    public void PrimePoolCruncher_checks_its_arguments_and_passes_the_token_to_the_pool()
    {
        Expect.Throws<ArgumentOutOfRangeException>(() => PrimePools.NewCruncher(0),
            "new PrimePoolCruncher(0) throws ArgumentOutOfRangeException: a pool needs at least one worker.");
        PrimePoolCruncher cruncher = PrimePools.NewCruncher(1);
        try
        {
            TaskExpectations.ThrowsOrFails<ArgumentNullException>(() => cruncher.CrunchAsync(null!, CancellationToken.None),
                "CrunchAsync(null, ...) throws ArgumentNullException.");

            // An empty payload has no primes, and needs no worker (a chunk of 0 numbers is not a valid MapAsync call).
            CrunchResult empty = Call(() => cruncher.CrunchAsync(new Payload(0, Server.Numbers(1), []), CancellationToken.None)).ShouldComplete(
                PrimePools.NoAnswer,
                diagnosisIfFailed: "An empty payload (a URL whose body holds no numbers) is crunched to an empty result: return it at once, " +
                "without calling MapAsync (whose chunk size must be at least 1).");
            empty.Primes.ShouldBeEmpty("An empty payload has no primes.");

            // A cancelled token cancels the request to the pool: the crunch ends as cancelled, not with an answer.
            using var cancelled = new CancellationTokenSource();
            cancelled.Cancel();
            Task<CrunchResult> crunch = Call(() => cruncher.CrunchAsync(new Payload(1, Server.Numbers(1), [7, 8, 9]), cancelled.Token));
            bool ended;
            try
            {
                ended = crunch.Wait(Deadlines.Hang);
            }
            catch (AggregateException)
            {
                ended = true;
            }

            const string PassesToken =
                "PrimePoolCruncher passes the token to the pool (MapAsync(numbers, chunkSize, cancellationToken)): a crunch of a cancelled " +
                "pipeline must stop, not keep a worker busy.";
            ended.ShouldBeTrue($"CrunchAsync with a cancelled token never ended. {PassesToken}");
            if (crunch.Exception?.InnerException is NotImplementedException notYet)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(notYet).Throw();
            }

            (crunch.IsCanceled || crunch.Exception?.InnerException is OperationCanceledException).ShouldBeTrue(
                (crunch.IsCompletedSuccessfully ? "CrunchAsync with a cancelled token answered anyway. " : $"CrunchAsync with a cancelled token failed with {crunch.Exception?.InnerException?.GetType().Name}. ") +
                PassesToken);
        }
        finally
        {
            PrimePools.Dispose(cruncher);
        }
    }

    /// <summary>A call that may throw at once or through its task: either way, a task.</summary>
    private static Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return call();
        }
        catch (Exception e) when (e is not NotImplementedException)
        {
            return Task.FromException<T>(e);
        }
    }

    [Test]
    public void The_pipeline_crunches_in_real_worker_processes_and_DisposeAsync_ends_them()
    {
        PrimePoolCruncher cruncher = PrimePools.NewCruncher(2);
        try
        {
            var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 3, buffer: 2, crunches: 2));
            Uri[] urls = NumberUrls(6);
            IReadOnlyList<PipelineResult> results = Run(pipeline, urls);
            IReadOnlyList<int> workers = PrimePools.Workers(cruncher);
            workers.ShouldNotBeEmpty("The pool's workers crunched the payloads.");
            ShouldHaveOneResultPerUrl(results, urls);
            for (int i = 0; i < urls.Length; i++)
            {
                ShouldHaveSucceeded(results, i, NumbersOf(i));
            }

            cruncher.DisposeAsync().AsTask().ShouldComplete(
                "PrimePoolCruncher.DisposeAsync never completed: it disposes the PrimePool (DisposeAsync), which ends its workers promptly.");
            foreach (int pid in workers)
            {
                ChildProcesses.IsRunning(pid).ShouldBeFalse($"Worker {pid} is still running after PrimePoolCruncher.DisposeAsync: dispose the pool.");
            }
        }
        finally
        {
            PrimePools.Dispose(cruncher);
        }
    }
}

/// <summary>Helpers for the tests that crunch in exercise 02's real worker processes.</summary>
internal static class PrimePools
{
    public const string NoAnswer =
        "PrimePoolCruncher never answered. It sends the payload's numbers to exercise 02's PrimePool (MapAsync) and awaits the verdicts; " +
        "does your PrimePool from exercise 02 pass its own tests (dotnet test tests/02-prime-pool)?";

    /// <summary>Creates a PrimePoolCruncher; if exercise 02 is not finished, says so.</summary>
    public static PrimePoolCruncher NewCruncher(int maxWorkers)
    {
        try
        {
            return new PrimePoolCruncher(maxWorkers);
        }
        catch (NotImplementedException notYet) when (notYet.Message.Contains("(exercise 02)", StringComparison.Ordinal))
        {
            throw new NotImplementedException(
                "This test crunches in real worker processes, with your PrimePool from exercise 02, which is not finished yet: " + notYet.Message,
                notYet);
        }
    }

    /// <summary>The cruncher's worker ids, recorded for the orphan check.</summary>
    public static IReadOnlyList<int> Workers(PrimePoolCruncher cruncher)
    {
        IReadOnlyList<int> ids = cruncher.WorkerProcessIds;
        ChildProcesses.TrackAll(ids, "PrimePool worker");
        return ids;
    }

    /// <summary>Disposes the cruncher on a learner thread with a deadline.</summary>
    public static void Dispose(PrimePoolCruncher cruncher)
    {
        try
        {
            Workers(cruncher);
        }
        catch (Exception ex) when (ex is NotImplementedException or ObjectDisposedException)
        {
            // Nothing to record.
        }

        LearnerThread.Start("cruncher disposer", cruncher.Dispose).ShouldFinish(
            "PrimePoolCruncher.Dispose never returned: it disposes the PrimePool, which must end its workers promptly (exercise 02, Step 3).");
    }
}
