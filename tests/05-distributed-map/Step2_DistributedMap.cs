namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>
/// Step 2: DistributedPrimeMap on a real cluster of one silo: chunks, the bound on chunk calls in flight, input order,
/// a failed chunk, bad arguments. Placement across several silos is Step 3.
/// </summary>
[Step(2)]
[TestFixture]
[NonParallelizable]
public sealed class Step2_DistributedMap : ClusterTest
{
    private const string MapFailed = "MapAsync failed although every chunk can be checked. ";

    protected override short SiloCount => 1;

    protected override void ProbeLearnerCode() => Probes.Map(new DistributedMapOptions());

    private static DistributedMapOptions Options(int chunkSize = 10, int inFlight = 4) =>
        new() { ChunkSize = chunkSize, MaxChunksInFlight = inFlight, ChunkTimeout = TimeSpan.FromSeconds(30), MaxAttempts = 3 };

    [Test]
    public void MapAsync_returns_every_verdict_in_input_order_with_one_report_per_chunk()
    {
        long[] numbers = Oracle.Numbers(500);
        foreach (int chunkSize in new[] { 1, 7, 100, 500, 1000 })
        {
            DistributedPrimeMap map = NewMap(Options(chunkSize, inFlight: 8));
            MapResult result = Map(map, numbers, MapFailed);
            ShouldBeComplete(result, numbers, chunkSize);

            // Twice on the same map (docs/testing.md, rule 16): nothing of one map call may leak into the next.
            ShouldBeComplete(Map(map, numbers, MapFailed), numbers, chunkSize);
        }
    }

    [Test]
    public void The_last_partial_chunk_is_not_dropped()
    {
        long[] numbers = [10_000_019, 10_000_079, 10_000_103, 10_000_129, 4, 5, 6, 7, 8, 9, 11];
        MapResult result = Map(NewMap(Options(chunkSize: 3)), numbers, MapFailed);
        result.Verdicts.Count.ShouldBe(numbers.Length,
            "11 numbers in chunks of 3 are 4 chunks, the last one holding 2 numbers: (count + chunkSize - 1) / chunkSize, not count / chunkSize. " +
            "The last partial chunk was dropped.");
        ShouldBeComplete(result, numbers, chunkSize: 3);
        Map(NewMap(Options(chunkSize: 3)), [], MapFailed).Verdicts.ShouldBeEmpty("No numbers: no verdicts, and no chunk.");
        ChunkSpy.Calls().Count.ShouldBe(4, "11 numbers in chunks of 3 are 4 chunk calls, and no numbers are none: an empty chunk is never sent.");
    }

    [Test]
    public void Verdicts_keep_input_order_when_a_later_chunk_finishes_first()
    {
        long[] numbers = Oracle.Numbers(40);
        ChunkSpy.Rule = call => call.First == numbers[0] ? ChunkAction.Hold : ChunkAction.Pass;
        DistributedPrimeMap map = NewMap(Options(chunkSize: 10, inFlight: 4));
        Task<MapResult> mapping = map.MapAsync(numbers);

        ChunkSpy.WaitUntil(calls => calls.Count(c => c.State == ChunkCallState.Answered) == 3 && calls.Any(c => c.IsHeld),
            "The first chunk is held at its silo; the other three must be sent and answered meanwhile (4 chunks, 4 in flight at most). " +
            "Calls for one grain id queue at one silo behind the held one: give each chunk (each attempt) a grain id of its own.");
        mapping.ShouldStayPending("MapAsync returned while its first chunk was still in flight: it must wait for every chunk.");

        ChunkSpy.ReleaseAll();
        MapResult result = mapping.ShouldComplete("MapAsync never completed after the held chunk was released.", diagnosisIfFailed: MapFailed);
        ShouldBeComplete(result, numbers, chunkSize: 10);
    }

    [Test]
    public void At_most_MaxChunksInFlight_chunk_calls_are_in_flight_and_never_fewer_while_chunks_wait()
    {
        // Every chunk is held at the silo: the map can have only its bound in flight, and must have exactly that many.
        long[] numbers = Oracle.Numbers(12);
        ChunkSpy.Rule = _ => ChunkAction.Hold;
        DistributedPrimeMap map = NewMap(Options(chunkSize: 1, inFlight: 3));
        Task<MapResult> mapping = map.MapAsync(numbers);

        ChunkSpy.WaitForInFlight(3,
            "With MaxChunksInFlight = 3 and 12 chunks, 3 chunk calls must be in flight at once: send the next chunk as soon as a slot is " +
            "free, without awaiting each call before sending the next (one after another wastes the cluster).");
        Settle.OneSided();
        ChunkSpy.MaxInFlight.ShouldBe(3,
            $"At most MaxChunksInFlight = 3 chunk calls may be in flight, but {ChunkSpy.MaxInFlight} were: bound the fan-out (a SemaphoreSlim, " +
            "or Parallel.ForEachAsync with MaxDegreeOfParallelism). An unbounded fan-out sends every chunk at once and floods the silos: " +
            "no back-pressure across the network.");

        // Release the held calls one at a time: each answer frees exactly one slot for the next chunk. (The client's count,
        // not the silo's: with one grain id, a silo runs only a few activations of it, and the rest of the calls in flight
        // wait in its queue.)
        for (int released = 1; released <= 9; released++)
        {
            ChunkSpy.WaitUntil(calls => calls.Any(c => c.IsHeld), "A chunk should be held at the silo.");
            ChunkSpy.Held()[0].Release();
            int expected = Math.Min(12, 3 + released);
            ChunkSpy.WaitUntil(_ => ChunkSpy.Sent == expected,
                $"After {released} answer(s), {expected} chunks should have been sent: each answer frees a slot, and the next chunk goes out at once.");
        }

        ChunkSpy.ReleaseAll();
        ShouldBeComplete(mapping.ShouldComplete("MapAsync never completed after every chunk was released.", diagnosisIfFailed: MapFailed), numbers, 1);
        ChunkSpy.MaxInFlight.ShouldBe(3, "At most MaxChunksInFlight = 3 chunk calls may be in flight at any time.");
    }

    [Test]
    public void A_chunk_that_fails_fails_the_map_with_that_exception()
    {
        long[] numbers = Oracle.Numbers(30);
        ChunkSpy.Rule = call => call.First == numbers[10] ? ChunkAction.Fail : ChunkAction.Pass;
        DistributedPrimeMap map = NewMap(Options(chunkSize: 5, inFlight: 2));

        InvalidOperationException failure = map.MapAsync(numbers).ShouldFail<InvalidOperationException>(
            "MapAsync never completed although one chunk failed.",
            "A chunk whose grain call fails fails the whole map with that exception, as it is, and at once: a wrong or partial result is " +
            "never returned as a valid one, and a chunk's own failure is not tried again (retry only lost attempts, Step 4).");
        failure.Message.ShouldContain(ChunkSpy.InjectedMessage, Case.Sensitive,
            "The map failed with an exception of its own; pass on the chunk's exception, which says why it failed.");

        // The map stays usable.
        ChunkSpy.Rule = _ => ChunkAction.Pass;
        ShouldBeComplete(Map(map, numbers, MapFailed), numbers, chunkSize: 5);
    }

    [Test]
    public void Bad_arguments_are_rejected_with_documented_exceptions()
    {
        const string Rule = "The constructor checks the options: ChunkSize, MaxChunksInFlight and MaxAttempts at least 1, ChunkTimeout more than " +
                            "zero (or Timeout.InfiniteTimeSpan); else ArgumentOutOfRangeException.";
        Probes.Map(new DistributedMapOptions());
        Expect.Throws<ArgumentOutOfRangeException>(() => new DistributedPrimeMap(Client, Options() with { ChunkSize = 0 }), Rule);
        Expect.Throws<ArgumentOutOfRangeException>(() => new DistributedPrimeMap(Client, Options() with { MaxChunksInFlight = 0 }), Rule);
        Expect.Throws<ArgumentOutOfRangeException>(() => new DistributedPrimeMap(Client, Options() with { MaxAttempts = 0 }), Rule);
        Expect.Throws<ArgumentOutOfRangeException>(() => new DistributedPrimeMap(Client, Options() with { ChunkTimeout = TimeSpan.Zero }), Rule);
        Expect.Throws<ArgumentOutOfRangeException>(() => new DistributedPrimeMap(Client, Options() with { ChunkTimeout = TimeSpan.FromSeconds(-2) }), Rule);
        Expect.Throws<ArgumentNullException>(() => new DistributedPrimeMap(null!, Options()), "A null grain factory throws ArgumentNullException.");
        Expect.Throws<ArgumentNullException>(() => new DistributedPrimeMap(Client, null!), "Null options throw ArgumentNullException.");

        DistributedPrimeMap map = NewMap(Options() with { ChunkTimeout = Timeout.InfiniteTimeSpan });
        map.Options.ChunkSize.ShouldBe(10, "Options returns the options the map was created with.");
        TaskExpectations.ThrowsOrFails<ArgumentNullException>(() => map.MapAsync(null!), "MapAsync(null) throws ArgumentNullException.");
        ShouldBeComplete(Map(map, Oracle.Numbers(25), MapFailed), Oracle.Numbers(25), chunkSize: 10);
    }
}
