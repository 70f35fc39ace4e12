namespace ConcurrencyKata.Tests.PipelineTests;

/// <summary>
/// Step 3: the pipeline streams. Crunching starts while other fetches are still held at the server; a bounded buffer
/// between the stages gives back-pressure; crunches run up to MaxConcurrentCrunches at once; results keep their index
/// whatever order the crunches finish in; nothing is lost or duplicated. Proven with gates at the server and in the
/// cruncher, and by counting, never by timing.
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
            "Channel.CreateBounded with FullMode = Wait, and keep the fetch slot (the permit) until WriteAsync has returned.");

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
            $"With MaxConcurrentCrunches = 2, two crunches must run at once, but at most {cruncher.MaxInCrunch} did: start " +
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
        Poll.Until(() => cruncher.Started >= 3, $"Three crunches may run at once, but {cruncher.Started} started.");

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
}
