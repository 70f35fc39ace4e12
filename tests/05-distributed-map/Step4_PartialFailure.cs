using System.Diagnostics;
using Orleans.TestingHost;

namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>
/// Step 4: partial failure, on a real cluster of three silos: a silo killed while it holds chunks, an attempt that
/// never answers, a chunk that fails for its own reason, a chunk lost on every attempt, and cancellation. Chunks are
/// held in flight at their silo by the test's gate (<see cref="ChunkSpy"/>), so the failure always strikes in the
/// middle of the work (docs/testing.md, rule 21), never by luck.
/// </summary>
[Step(4)]
[TestFixture]
[NonParallelizable]
public sealed class Step4_PartialFailure : ClusterTest
{
    private const string MapFailed = "MapAsync failed, but every lost chunk can be tried again on a live silo. ";

    private const string OwnDeadline =
        "A chunk call that is never answered must be given up after ChunkTimeout and tried again: give every grain call its own deadline " +
        "(a CancellationTokenSource linked to the map's token, with CancelAfter(ChunkTimeout), passed to CheckAsync). A silo that dies " +
        "holding your chunk may never answer, and nothing else tells the caller.";

    /// <summary>How long a map may take to complete after a kill: a chunk timeout, a reconnection, a retry. Never below
    /// 15 s, even with a KATA_DEADLINE_SCALE below 1: it detects a hang, it does not measure speed.</summary>
    internal static TimeSpan AfterAKill => Deadlines.HangAtLeast(TimeSpan.FromSeconds(15));

    protected override short SiloCount => 3;

    protected override void ProbeLearnerCode() => Probes.Map(new DistributedMapOptions());

    private static DistributedMapOptions Options(int chunkSize, int inFlight, TimeSpan timeout, int attempts = 3) =>
        new() { ChunkSize = chunkSize, MaxChunksInFlight = inFlight, ChunkTimeout = timeout, MaxAttempts = attempts };

    [Test]
    public void A_chunk_with_no_answer_within_ChunkTimeout_is_tried_again_and_the_lost_call_is_ended()
    {
        long[] numbers = Oracle.Numbers(40, start: 60_000_000);
        long lost = numbers[15];
        ChunkSpy.Rule = call => call.First == lost && call.Attempt == 1 ? ChunkAction.Hold : ChunkAction.Pass;
        DistributedPrimeMap map = NewMap(Options(chunkSize: 5, inFlight: 4, timeout: TimeSpan.FromMilliseconds(500)));

        MapResult result = map.MapAsync(numbers).ShouldComplete(OwnDeadline, diagnosisIfFailed: MapFailed);

        ShouldBeComplete(result, numbers, chunkSize: 5);
        result.Chunks[3].Attempts.ShouldBe(2, $"The chunk at offset 15 was lost once (held past ChunkTimeout) and answered on its second attempt: its report says {result.Chunks[3].Attempts} attempts.");
        result.Chunks.Where(c => c.Offset != 15).ShouldAllBe(c => c.Attempts == 1, "Only the lost chunk is tried again; every other chunk takes one attempt.");
        ChunkSpy.WaitForNoneInFlight(
            "The lost attempt is still in flight after the map returned: cancel the call you give up on, do not just stop waiting for it. Pass " +
            "the attempt's deadline token to CheckAsync: when it fires, Orleans ends the call at once and drops its late answer.");
    }

    [Test]
    public void A_late_answer_of_a_lost_attempt_is_not_counted_twice()
    {
        // Attempts 1 and 2 of one chunk are held. Attempt 1 is let go once attempt 2 is on its way: retries are at-least-once
        // (both may run to the end), but the result must hold the chunk's verdicts exactly once.
        long[] numbers = Oracle.Numbers(30, start: 70_000_000);
        long chunk = numbers[10];
        ChunkSpy.Rule = call => call.First == chunk && call.Attempt <= 2 ? ChunkAction.Hold : ChunkAction.Pass;
        Task<MapResult> mapping = NewMap(Options(chunkSize: 5, inFlight: 3, timeout: TimeSpan.FromMilliseconds(400))).MapAsync(numbers);

        ChunkSpy.WaitUntil(calls => calls.Any(c => c.First == chunk && c.Attempt == 2 && c.IsHeld), OwnDeadline);
        ChunkSpy.Calls().Single(c => c.First == chunk && c.Attempt == 1).Release();
        ChunkSpy.WaitUntil(calls => calls.Single(c => c.First == chunk && c.Attempt == 1).State != ChunkCallState.Running,
            "The first attempt was released; it should have ended.");
        ChunkSpy.ReleaseAll();

        MapResult result = mapping.ShouldComplete(OwnDeadline, diagnosisIfFailed: MapFailed);
        ShouldBeComplete(result, numbers, chunkSize: 5);
    }

    [Test]
    public void A_silo_killed_mid_map_loses_no_chunk_and_duplicates_none()
    {
        long[] numbers = Oracle.Numbers(120, start: 80_000_000);
        DistributedPrimeMap map = NewMap(Options(chunkSize: 5, inFlight: 6, timeout: TimeSpan.FromSeconds(2), attempts: 5));
        SiloAddress primary = Cluster.Primary!.SiloAddress;
        SiloHandle victim = Silos.First(s => s.SiloAddress != primary);
        ChunkSpy.Rule = call => call.Silo == victim.SiloAddress ? ChunkAction.Hold : ChunkAction.Pass;

        Task<MapResult> mapping = map.MapAsync(numbers);
        ChunkSpy.WaitUntil(calls => calls.Any(c => c.IsHeld),
            $"A chunk should have reached silo {victim.SiloAddress} and been held there. Does the map spread its chunks over the silos (Step 3)?");
        var clock = Stopwatch.StartNew();
        ClusterHost.Kill(victim);
        TestContext.Progress.WriteLine($"kill: silo {victim.SiloAddress} killed in {clock.ElapsedMilliseconds} ms");

        MapResult result = mapping.ShouldComplete(
            $"A silo was killed while it held chunks, and the map never completed. {OwnDeadline} Then try the lost chunk again with a new " +
            "grain id: a new route, through a gateway that is alive.", AfterAKill, MapFailed);
        TestContext.Progress.WriteLine($"kill: the map completed {clock.ElapsedMilliseconds} ms after the silo was killed");

        ShouldBeComplete(result, numbers, chunkSize: 5);
        var lost = ChunkSpy.Calls().Where(c => c.Silo == victim.SiloAddress).Select(c => c.First).ToHashSet();
        foreach (ChunkReport chunk in result.Chunks.Where(c => lost.Contains(numbers[c.Offset])))
        {
            chunk.Silo.ShouldNotBe(victim.SiloAddress, $"The chunk at offset {chunk.Offset} was lost with silo {victim.SiloAddress}; its answer must come from another silo.");
            chunk.Attempts.ShouldBeGreaterThanOrEqualTo(2, $"The chunk at offset {chunk.Offset} was lost with the killed silo, so it took at least two attempts.");
        }
    }

    [Test]
    public void A_chunk_that_fails_for_its_own_reason_fails_the_map_at_once_without_a_retry()
    {
        long[] numbers = Oracle.Numbers(40, start: 90_000_000);
        long bad = numbers[20];
        ChunkSpy.Rule = call => call.First == bad ? ChunkAction.Fail : ChunkAction.Pass;
        DistributedPrimeMap map = NewMap(Options(chunkSize: 5, inFlight: 2, timeout: TimeSpan.FromSeconds(30), attempts: 5));

        InvalidOperationException failure = map.MapAsync(numbers).ShouldFail<InvalidOperationException>(
            "MapAsync never completed although one chunk failed.",
            "A chunk that fails for its own reason (the grain threw) fails the map with that exception, as it is, at once: retry only lost " +
            "attempts, an exception the grain threw would only be thrown again.");
        failure.Message.ShouldContain(ChunkSpy.InjectedMessage, Case.Sensitive, "Pass on the chunk's own exception, which says why it failed.");
        int calls = ChunkSpy.Calls().Count(c => c.First == bad);
        calls.ShouldBe(1,
            $"The chunk that failed for its own reason was sent {calls} times: retry only lost attempts (this attempt's deadline passed, or " +
            "its silo was lost: SiloUnavailableException, OrleansMessageRejectionException, ConnectionFailedException, TimeoutException): " +
            "an exception the grain threw would only be thrown again, MaxAttempts times over.");
    }

    [Test]
    public void A_chunk_lost_on_every_attempt_fails_the_map_after_MaxAttempts_with_TimeoutException()
    {
        ChunkSpy.Rule = _ => ChunkAction.Hold;
        DistributedPrimeMap map = NewMap(Options(chunkSize: 5, inFlight: 1, timeout: TimeSpan.FromMilliseconds(400), attempts: 3));

        map.MapAsync(Oracle.Numbers(5, start: 95_000_000)).ShouldFail<TimeoutException>(
            $"{OwnDeadline} And stop after MaxAttempts: a chunk that is lost every time must fail the map, not be retried forever.",
            "A chunk lost on every attempt fails the map with TimeoutException after MaxAttempts attempts: try a lost attempt again, up to " +
            "MaxAttempts, then give up with TimeoutException.");
        int sent = ChunkSpy.Sent;
        sent.ShouldBe(3, $"With MaxAttempts = 3, a chunk that is never answered is sent exactly 3 times, not {sent}: try a lost attempt again " +
            "(with a new grain id: a new route), and stop after MaxAttempts.");
    }

    [Test]
    public void Cancelling_the_map_stops_dispatching_promptly_and_cancels_the_calls_in_flight()
    {
        long[] numbers = Oracle.Numbers(60, start: 97_000_000);
        ChunkSpy.Rule = _ => ChunkAction.Hold;
        DistributedPrimeMap map = NewMap(Options(chunkSize: 3, inFlight: 3, timeout: TimeSpan.FromSeconds(30)));
        using var cancel = new CancellationTokenSource();
        Task<MapResult> mapping = map.MapAsync(numbers, cancel.Token);
        ChunkSpy.WaitForInFlight(3, "Three chunks should be in flight (MaxChunksInFlight = 3).");

        Cancellation.CancelOnOwnThread(cancel);
        mapping.ShouldBeCanceled(
            "Cancellation must stop the map promptly: pass the map's token to every wait, and to every grain call (linked into each " +
            "attempt's deadline), so the calls in flight end at once.",
            "A cancelled map ends as cancelled (OperationCanceledException): not with a result, not with another failure, and not retried.");
        Settle.OneSided();
        ChunkSpy.Sent.ShouldBe(3, $"After the token fired, {ChunkSpy.Sent - 3} more chunk(s) were sent: a cancelled map sends nothing more.");
        ChunkSpy.WaitForNoneInFlight(
            "The calls in flight must end with the map: pass the token (linked into each attempt's deadline) to CheckAsync, so that cancelling " +
            "ends each call at once instead of leaving it behind.");

        using var already = new CancellationTokenSource();
        already.Cancel();
        TaskExpectations.ThrowsOrFails<OperationCanceledException>(() => map.MapAsync(numbers, already.Token),
            "A token that is cancelled already sends nothing: MapAsync ends as cancelled.");
        ChunkSpy.Sent.ShouldBe(3, "A map whose token is cancelled already sends no chunk.");
    }
}
