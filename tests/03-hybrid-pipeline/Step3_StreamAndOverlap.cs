namespace ConcurrencyKata.Tests.PipelineTests;

/// <summary>
/// Step 3: the pipeline streams. Crunching starts while other fetches are still held at the server; a bounded buffer
/// between the stages gives back-pressure; crunches run up to MaxConcurrentCrunches at once; results keep their index
/// whatever order the crunches finish in; nothing is lost or duplicated, also when several crunch loops record their
/// results at the same instant; the run always ends (the writer is completed), and the caller's token reaches both
/// stages. Proven with gates at the server and in the cruncher, and by counting, never by timing.
/// </summary>
[Step(3)]
[TestFixture]
[NonParallelizable]
public sealed class Step3_StreamAndOverlap : PipelineTest
{
    [Test]
    public void Crunching_starts_while_other_fetches_are_still_held()
    {
        TestCruncher cruncher = NewCruncher();
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 2, buffer: 2, crunches: 1));
        Uri[] urls = [Server.Gated("held", 5, 6), Server.Numbers(7, 8), Server.Numbers(11, 12)];

        Task<IReadOnlyList<PipelineResult>> run = pipeline.RunAsync(urls);
        Poll.Until(() => cruncher.Finished >= 2 || run.IsCompleted,
            "Crunching must start as soon as the first payload arrives, while other fetches are still running: two payloads were " +
            $"fetched, one URL is still held at the server, and {cruncher.Started} crunch(es) started. Fetching everything before crunching " +
            "anything is the article's two-phase version; stream instead: each fetch writes its payload into a Channel that the crunch " +
            "stage reads at the same time.");
        run.IsCompleted.ShouldBeFalse("RunAsync completed while a URL was still held at the server.");
        Server.InFlight.ShouldBe(1, "The held URL is still in flight while the others are crunched.");

        Server.Open("held");
        IReadOnlyList<PipelineResult> results = run.ShouldComplete(RunNeverEnded, diagnosisIfFailed: RunFailed);
        ShouldHaveOneResultPerUrl(results, urls);
        ShouldHaveSucceeded(results, 0, [5, 6]);
        ShouldHaveSucceeded(results, 2, [11, 12]);
    }

    [Test]
    public void Fetched_payloads_waiting_for_a_cruncher_never_exceed_the_buffer()
    {
        const int Fetches = 2, Buffer = 3, Crunches = 1;
        TestCruncher cruncher = NewCruncher(gated: true);
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: Fetches, buffer: Buffer, crunches: Crunches));
        Uri[] urls = NumberUrls(30);

        Task<IReadOnlyList<PipelineResult>> run = pipeline.RunAsync(urls);
        Poll.Until(() => cruncher.Started >= Crunches, "The crunch stage never started a crunch.");

        // The one crunch is held. A bounded pipeline fills its buffer, its fetch slots wait to write, and it stops
        // fetching: at most Crunches (held) + Buffer (in the channel) + Fetches (each slot holding one payload) URLs.
        Settle.OneSided(TimeSpan.FromMilliseconds(300));
        const int Bound = Crunches + Buffer + Fetches;
        Server.Requests.ShouldBeLessThanOrEqualTo(Bound,
            $"No back-pressure: while the only crunch was held, the pipeline kept fetching ({Server.InFlightReport()}); fetched but " +
            $"not crunched payloads must never exceed BufferCapacity ({Buffer}) plus one per fetch slot ({Fetches}). Use " +
            "Channel.CreateBounded with FullMode = Wait, and keep the fetch slot (the permit) until WriteAsync has returned: a WriteAsync that " +
            "is not awaited frees the slot at once. (Fetching everything before crunching anything has no back-pressure either: crunch as " +
            "soon as the first payload arrives.)");

        cruncher.ReleaseAll();
        IReadOnlyList<PipelineResult> results = run.ShouldComplete(RunNeverEnded, diagnosisIfFailed: RunFailed);
        ShouldHaveOneResultPerUrl(results, urls);
        cruncher.MaxInCrunch.ShouldBeLessThanOrEqualTo(Crunches, "At most MaxConcurrentCrunches payloads are crunched at once.");
    }

    [Test]
    public void Crunches_run_concurrently_up_to_MaxConcurrentCrunches()
    {
        TestCruncher cruncher = NewCruncher(gated: true);
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 3, buffer: 4, crunches: 2));
        Uri[] urls = NumberUrls(8);

        Task<IReadOnlyList<PipelineResult>> run = pipeline.RunAsync(urls);
        Poll.Until(() => cruncher.InCrunch >= 2,
            () => $"With MaxConcurrentCrunches = 2, two crunches must run at once, but at most {cruncher.MaxInCrunch} did: start " +
            "MaxConcurrentCrunches reader loops on the channel (or a Parallel.ForEachAsync over ReadAllAsync with that degree).");
        Settle.OneSided();
        cruncher.MaxInCrunch.ShouldBeLessThanOrEqualTo(2,
            $"At most MaxConcurrentCrunches (2) payloads may be crunched at once, but {cruncher.MaxInCrunch} were.");

        cruncher.ReleaseAll();
        ShouldHaveOneResultPerUrl(run.ShouldComplete(RunNeverEnded, diagnosisIfFailed: RunFailed), urls);
        cruncher.MaxInCrunch.ShouldBeLessThanOrEqualTo(2, "At most MaxConcurrentCrunches payloads are crunched at once.");
    }

    [Test]
    public void Results_keep_their_input_index_when_crunches_finish_out_of_order()
    {
        TestCruncher cruncher = NewCruncher(gated: true);
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 3, buffer: 3, crunches: 3));
        Uri[] urls = NumberUrls(3);

        Task<IReadOnlyList<PipelineResult>> run = pipeline.RunAsync(urls);
        Poll.Until(() => cruncher.Started >= 3,
            () => $"Three crunches may run at once (MaxConcurrentCrunches = 3), but {cruncher.Started} started: start MaxConcurrentCrunches " +
                  "reader loops on the channel.");

        // Finish them last to first.
        for (int i = urls.Length - 1; i >= 0; i--)
        {
            int finishedBefore = cruncher.Finished;
            cruncher.Release(i);
            Poll.Until(() => cruncher.Finished > finishedBefore, $"The crunch of item {i} did not finish after it was released.");
        }

        IReadOnlyList<PipelineResult> results = run.ShouldComplete(RunNeverEnded, diagnosisIfFailed: RunFailed);
        ShouldHaveOneResultPerUrl(results, urls);
        for (int i = 0; i < urls.Length; i++)
        {
            ShouldHaveSucceeded(results, i, NumbersOf(i));
        }
    }

    [Test]
    public void Nothing_is_lost_or_duplicated_with_many_urls_and_failures()
    {
        TestCruncher cruncher = NewCruncher(failure: p => p.Index % 5 == 3 ? new InvalidOperationException("crunch failed") : null);
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 4, buffer: 2, crunches: 2));
        Uri[] urls = Enumerable.Range(0, 40).Select(i => i % 7 == 6 ? Server.Status(500) : Server.Numbers(NumbersOf(i))).ToArray();

        for (int run = 1; run <= 2; run++)
        {
            IReadOnlyList<PipelineResult> results = Run(pipeline, urls);
            ShouldHaveOneResultPerUrl(results, urls);
            cruncher.Duplicates.Count.ShouldBeLessThanOrEqualTo(run == 1 ? 0 : 40,
                $"Duplicated crunches: payloads {string.Join(", ", cruncher.Duplicates)} were crunched more than once. Each payload is crunched exactly once.");
            for (int i = 0; i < urls.Length; i++)
            {
                ItemStatus expected = i % 7 == 6 ? ItemStatus.FetchFailed : i % 5 == 3 ? ItemStatus.CrunchFailed : ItemStatus.Succeeded;
                results[i].Status.ShouldBe(expected, $"Run {run}: item {i} should be {expected}.");
                cruncher.CallsFor(i).ShouldBe(expected == ItemStatus.FetchFailed ? 0 : run,
                    $"Run {run}: the payload of URL {i} was crunched {cruncher.CallsFor(i)} time(s) in all: each fetched payload is crunched exactly once per run, a failed fetch never.");
                if (expected == ItemStatus.Succeeded)
                {
                    ShouldHaveSucceeded(results, i, NumbersOf(i));
                    Server.RequestsFor(urls[i]).ShouldBe(run, $"Run {run}: URL {i} was fetched {Server.RequestsFor(urls[i])} time(s) in all: each URL is fetched exactly once per run.");
                }
            }
        }
    }

    [Test]
    public void Results_recorded_by_several_crunch_loops_at_the_same_instant_are_never_lost_or_duplicated()
    {
        // Runs of 400 in-memory URLs (no server; every 50th fails with status 500), each fetched into the buffer first;
        // then the two crunch loops take it from there, their crunches finishing in pairs, on two threads at the same
        // instant. Again until 600 crunches have finished in pairs, or for at most 2 s on a machine too busy for that
        // (docs/testing.md, rule 13).
        const int Count = 400;
        const int EnoughPaired = 600;
        TimeSpan budget = TimeSpan.FromSeconds(2);
        (HttpClient client, TestHandler handler) = NewClient();
        int paired = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int run = 1; run == 1 || (paired < EnoughPaired && clock.Elapsed < budget); run++)
        {
            using var cruncher = new BurstCruncher();
            var pipeline = new FetchCrunchPipeline(client, cruncher, Options(fetches: 4, buffer: Count, crunches: 2));
            Uri[] urls = Enumerable.Range(0, Count).Select(i => Server.Url(i % 50 == 49 ? "memory/fail" : $"memory/{i}")).ToArray();
            int servedBefore = handler.MemoryServed;
            Task<IReadOnlyList<PipelineResult>> running = pipeline.RunAsync(urls);
            Poll.Until(() => handler.MemoryServed - servedBefore >= Count || running.IsCompleted,
                () => $"With BufferCapacity = {Count}, every URL should have been fetched into the buffer while the first crunches were held, " +
                $"but {handler.MemoryServed - servedBefore} were.", Deadlines.Stress);
            cruncher.Go();
            IReadOnlyList<PipelineResult> results = running.ShouldComplete(
                RunNeverEnded, deadline: Deadlines.Stress, diagnosisIfFailed: RunFailed + " " + SeveralThreads);

            string Run() => $"Run {run}: {cruncher.Paired} of {cruncher.Started} crunches finished at the same instant as another. {SeveralThreads}";
            results.Count.ShouldBe(Count, $"Lost or duplicated results: {Count} URLs went in, {results.Count} results came out. {Run()}");
            var missing = new List<int>();
            for (int i = 0; i < Count; i++)
            {
                PipelineResult? result = results[i];
                if (result is null || result.Index != i || result.Url != urls[i])
                {
                    missing.Add(i);
                    continue;
                }

                bool fails = i % 50 == 49;
                (result.Status == (fails ? ItemStatus.FetchFailed : ItemStatus.Succeeded)).ShouldBeTrue(
                    $"Item {i} should be {(fails ? ItemStatus.FetchFailed : ItemStatus.Succeeded)}, but is {result.Status}. {Run()}");
                if (!fails)
                {
                    result.Crunch!.Primes.ShouldBe(Oracle.Primes([i]), $"Item {i} does not hold its own crunch result. {Run()}");
                }
            }

            missing.ShouldBeEmpty(
                $"Lost result: no result (or another URL's) at {missing.Count} of {Count} indexes, e.g. {string.Join(", ", missing.Take(5))}. {Run()}");
            cruncher.Started.ShouldBe(Count - (Count / 50), $"Each fetched payload is crunched exactly once. {Run()}");
            paired += cruncher.Paired;
        }
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

    [Test]
    public void A_token_that_is_already_cancelled_runs_nothing()
    {
        TestCruncher cruncher = NewCruncher();
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options());
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        ShouldEndCancelled(pipeline.RunAsync(NumberUrls(4), cancelled.Token), "RunAsync",
            "RunAsync with a token that is already cancelled ends at once with OperationCanceledException, and runs nothing. " + NotPrompt, cancelled.Token);
        Settle.OneSided();
        Server.Requests.ShouldBe(0, "A token that is already cancelled runs nothing: not one request. Check the token before you start, and pass it to both stages.");
        cruncher.Started.ShouldBe(0, "A token that is already cancelled runs nothing: not one crunch.");
    }

    [Test]
    public void Cancelling_stops_new_fetches_promptly_and_leaves_the_pipeline_as_it_was()
    {
        TestCruncher cruncher = NewCruncher();
        var pipeline = new FetchCrunchPipeline(Client, cruncher, Options(fetches: 1, buffer: 2, crunches: 1));
        Uri[] urls = Enumerable.Range(0, 10).Select(i => Server.Gated($"g{i}", i)).ToArray();
        using var source = new CancellationTokenSource();

        Task<IReadOnlyList<PipelineResult>> run = pipeline.RunAsync(urls, source.Token);
        Server.ShouldReachInFlight(1, "The first fetch never reached the server.");
        Cancellation.CancelOnOwnThread(source);

        ShouldEndCancelled(run, "RunAsync", NotPrompt, source.Token);
        Settle.OneSided();
        Server.Requests.ShouldBe(1, $"After cancellation no new fetch may start, but {Server.InFlightReport()}. {NotPrompt}");
        Poll.Until(() => Server.InFlight == 0,
            "The fetch in flight when the token was cancelled is still open at the server: pass the token to GetAsync, so the request is aborted.");
        cruncher.Started.ShouldBe(0, "Nothing was fetched, so nothing may be crunched.");

        // The cancelled run left nothing behind: the same pipeline runs again, with its permit back.
        Uri[] again = [Server.Gated("again", 1), Server.Numbers(2)];
        Task<IReadOnlyList<PipelineResult>> next = pipeline.RunAsync(again);
        Server.ShouldHold("again", 1,
            "After a cancelled run, the next run of the same pipeline fetched nothing: the cancelled fetch must give its permit back.");
        Server.Open("again");
        ShouldHaveOneResultPerUrl(next.ShouldComplete(RunNeverEnded, diagnosisIfFailed: RunFailed), again);
    }

    private const string NotPrompt =
        "Cancellation must stop the pipeline promptly: RunAsync ends with OperationCanceledException, and a token that is cancelled " +
        "already runs nothing. Pass the caller's token to both stages, to every wait: the permit (WaitAsync), GetAsync and reading " +
        "the body, WriteAsync(payload, token) into the channel, ReadAllAsync, and CrunchAsync.";
}

/// <summary>
/// Step 3, on real processes: a worker of PrimePoolCruncher that crashes mid-crunch, in the middle of a streaming run,
/// surfaces within seconds as a CrunchFailed item with WorkerCrashedException; the run completes, and the rest of the
/// batch is crunched by the replacement worker. Needs exercise 02.
/// </summary>
[Step(3)]
[TestFixture]
[NonParallelizable]
public sealed class Step3_CrashedWorker : PipelineTest
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
                "The first payload never reached a worker process of PrimePoolCruncher, while the other URLs were held at the server: " +
                "crunching must start as soon as the first payload arrives (and exercise 02's PrimePool must start a worker on demand).");
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
