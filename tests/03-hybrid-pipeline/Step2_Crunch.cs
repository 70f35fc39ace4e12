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
        Expect.Throws<ArgumentOutOfRangeException>(() => new FetchCrunchPipeline(Client, cruncher, Options(buffer: 0)), Rule);
        Expect.Throws<ArgumentOutOfRangeException>(() => new FetchCrunchPipeline(Client, cruncher, Options(crunches: 0)), Rule);
        Expect.Throws<ArgumentOutOfRangeException>(() => new FetchCrunchPipeline(Client, cruncher, Options(timeout: TimeSpan.Zero)), Rule);
        Expect.Throws<ArgumentNullException>(() => new FetchCrunchPipeline(null!, cruncher, Options()), "A null client throws ArgumentNullException.");
        Expect.Throws<ArgumentNullException>(() => new FetchCrunchPipeline(Client, null!, Options()), "A null cruncher throws ArgumentNullException.");
        Expect.Throws<ArgumentNullException>(() => new FetchCrunchPipeline(Client, cruncher, null!), "Null options throw ArgumentNullException.");

        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options());
        TaskExpectations.ThrowsOrFails<ArgumentNullException>(() => pipeline.RunAsync(null!), "RunAsync(null) throws ArgumentNullException.");
        Run(pipeline, []).ShouldBeEmpty("No URLs, no results.");
        Uri[] urls = NumberUrls(2);
        IReadOnlyList<PipelineResult> results = Run(pipeline, urls);
        ShouldHaveOneResultPerUrl(results, urls);
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
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 2, buffer: 2, crunches: 1));
        Uri[] urls = [Server.Numbers(2, 3, 4), Server.Status(500), Server.Numbers(5, 6, 7), Server.Status(404)];

        IReadOnlyList<PipelineResult> results = Run(pipeline, urls);

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
    public void The_pipeline_crunches_in_real_worker_processes()
    {
        PrimePoolCruncher cruncher = PrimePools.NewCruncher(2);
        try
        {
            var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 3, buffer: 2, crunches: 2));
            Uri[] urls = NumberUrls(6);
            IReadOnlyList<PipelineResult> results = Run(pipeline, urls);
            PrimePools.Workers(cruncher).ShouldNotBeEmpty("The pool's workers crunched the payloads.");
            ShouldHaveOneResultPerUrl(results, urls);
            for (int i = 0; i < urls.Length; i++)
            {
                ShouldHaveSucceeded(results, i, NumbersOf(i));
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
