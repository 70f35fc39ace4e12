namespace ConcurrencyKata.Tests.PipelineTests;

/// <summary>
/// Step 4: when the stages wait on each other (the only crunch held, the buffer full, a fetch slot waiting to write,
/// a fetch in flight) and the caller cancels, or a stage fails with something that is not one item's failure, both
/// stages stop: no new fetch, no new crunch, the cancellation is no failed item, and RunAsync ends only once every
/// fetch and crunch of the run has ended, with OperationCanceledException carrying the caller's token (or with the
/// stage's exception). The crunch and the fetch in progress are slow to stop (they need the test's go-ahead), so a
/// RunAsync that returns before they have ended is caught every time.
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

    private const string WaitForEverything =
        "RunAsync ends only once every fetch and every crunch of the run has ended, whatever happened: await all the stages together " +
        "(Task.WhenAll of the fetch stage and every crunch loop), not one after the other (the first one's exception would skip the rest).";

    [Test]
    public void Cancelling_while_the_stages_wait_on_each_other_ends_the_run_once_everything_has_stopped()
    {
        (HttpClient client, TestHandler handler) = NewClient();
        TestCruncher cruncher = NewCruncher(gated: true, slowToStop: true);
        var pipeline = new FetchCrunchPipeline(client, cruncher, Options(fetches: 2, buffer: 1, crunches: 1));

        // Item 0 is crunched (held), item 1 fills the buffer, a fetch slot is stuck on item 2 (never answered), the
        // other one has fetched item 3 and waits for room in the channel.
        Uri[] urls = [Server.Numbers(0), Server.Numbers(1), Server.Url("stubborn/2"), Server.Numbers(3), Server.Numbers(4), Server.Numbers(5)];
        using var source = new CancellationTokenSource();
        Task<IReadOnlyList<PipelineResult>> run = pipeline.RunAsync(urls, source.Token);
        Poll.Until(() => cruncher.Started >= 1 && handler.StubbornStarted >= 1 && Server.RequestsFor(urls[3]) >= 1,
            () => $"The pipeline never got to: item 0 crunched, item 2 in flight, item 3 fetched ({cruncher.Started} crunch(es) started, " +
                  $"{handler.StubbornStarted} stubborn fetch(es), {Server.InFlightReport()}).");
        Settle.OneSided(); // the fetch slot of item 3 waits in WriteAsync

        Cancellation.CancelOnOwnThread(source);
        Poll.Until(() => cruncher.Cancelled >= 1,
            "After cancellation, the crunch in progress was never told: pass the token to CrunchAsync(payload, token). " + NotPrompt);
        run.ShouldStayPending(
            "RunAsync ended while a crunch and a fetch of the run were still running (both stop only when the test lets them). " + WaitForEverything);

        cruncher.LetStop();
        Poll.Until(() => cruncher.InCrunch == 0 || run.IsCompleted, "The cancelled crunch never ended after the test let it stop.");
        run.ShouldStayPending("RunAsync ended while a fetch of the run was still running (it stops only when the test lets it). " + WaitForEverything);

        handler.LetStubbornStop();
        ShouldEndCancelled(run, "RunAsync",
            "Cancelled while the only crunch was held and the buffer was full, RunAsync never ended. A fetch slot waiting for room in the " +
            "channel must give up when cancelled: WriteAsync(payload, token); the crunch in progress must be told: CrunchAsync(payload, token). " +
            NotPrompt, source.Token);
        cruncher.Started.ShouldBe(1,
            $"After cancellation no new crunch may start, but {cruncher.Started} did: the caller's cancellation is never a failed item. When " +
            "CrunchAsync ends with OperationCanceledException because the run is cancelled, rethrow it (catch (OperationCanceledException) when " +
            "(token.IsCancellationRequested) { throw; }, before the catch that makes a CrunchFailed item): a crunch loop that records it and " +
            "reads on crunches the payloads still in the buffer.");
        cruncher.InCrunch.ShouldBe(0, $"A crunch of the run is still running after RunAsync ended. {WaitForEverything}");
        handler.StubbornRunning.ShouldBe(0, $"A fetch of the run is still running after RunAsync ended. {WaitForEverything}");
        int fetched = Server.Requests;
        Settle.OneSided();
        Server.Requests.ShouldBe(fetched, $"After cancellation no new fetch may start. {NotPrompt}");
        Poll.Until(() => Server.InFlight == 0, () => $"A request of the cancelled run is still open at the server ({Server.InFlightReport()}). {NotPrompt}");
    }

    [Test]
    public void A_stage_that_fails_stops_the_other_stage_and_RunAsync_fails_with_its_exception()
    {
        // A bug in the client's message handler: FetchOneAsync lets it through, so the fetch stage fails.
        (HttpClient client, TestHandler handler) = NewClient();
        TestCruncher cruncher = NewCruncher(gated: true, slowToStop: true);
        var pipeline = new FetchCrunchPipeline(client, cruncher, Options(fetches: 1, buffer: 1, crunches: 1));
        Uri[] urls = [Server.Numbers(0), Server.Numbers(1), Server.Url("bug/2"), Server.Numbers(3)];

        // Item 0 is crunched (held), item 1 waits in the buffer; then the fetch of item 2 hits the bug.
        Task<IReadOnlyList<PipelineResult>> run = pipeline.RunAsync(urls);
        Poll.Until(() => (cruncher.Started >= 1 && Server.RequestsFor(urls[1]) >= 1) || run.IsCompleted,
            () => $"The pipeline never got to: item 0 crunched, item 1 fetched ({cruncher.Started} crunch(es) started, {Server.InFlightReport()}).");
        Settle.OneSided();
        handler.ReleaseBugs();

        const string StopTheOther =
            "A stage that fails with something that is not the failure of one item (here the fetch stage, with a bug that FetchOneAsync " +
            "lets through) must stop the other stage: give both stages the token of one CancellationTokenSource linked to the caller's, " +
            "and cancel it when a stage ends with an exception (try { await stage; } catch { await stop.CancelAsync(); throw; }). " +
            "Completing the channel is not enough: the crunch in progress and the payloads in the buffer would still be crunched.";
        Poll.Until(() => cruncher.Cancelled >= 1 || run.IsCompleted,
            $"The fetch stage failed, but the crunch in progress was never told to stop. {StopTheOther}");
        run.ShouldStayPending(
            "RunAsync ended while a crunch of the run was still running (it stops only when the test lets it). " + WaitForEverything);

        cruncher.LetStop();
        TestBugException bug = run.ShouldFail<TestBugException>(
            $"RunAsync never ended after the fetch stage failed. {StopTheOther}",
            $"When a stage fails, RunAsync fails with that stage's exception, unchanged, once the other stage has stopped. {StopTheOther}");
        bug.Message.ShouldContain("bug/2", Case.Sensitive, "RunAsync fails with the very exception the stage failed with.");
        cruncher.Started.ShouldBe(1,
            $"After the fetch stage failed, {cruncher.Started - 1} more crunch(es) started (the payload in the buffer). {StopTheOther}");
        cruncher.InCrunch.ShouldBe(0, $"A crunch of the run is still running after RunAsync ended. {WaitForEverything}");
        Server.RequestsFor(urls[3]).ShouldBe(0, "After the fetch stage failed, no new fetch may start.");
    }
}
