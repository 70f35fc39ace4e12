namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>
/// Step 3: placement, on a real cluster of three silos. Where a chunk runs is proven by the silo each call reached
/// (the <see cref="ChunkSpy"/> inside every silo) and the silo each chunk reports, never by timing.
/// </summary>
[Step(3)]
[TestFixture]
[NonParallelizable]
public sealed class Step3_Placement : ClusterTest
{
    private const string MapFailed = "MapAsync failed although every chunk can be checked. ";

    private const string OneRoute =
        "A [StatelessWorker] runs on the silo that receives the call, and a client sends every call for one grain id through the same " +
        "gateway silo (to keep their order). So one grain id for every chunk keeps the whole map on one silo, however big the cluster: give " +
        "each chunk (each attempt) a grain id of its own, and the calls spread over every gateway.";

    protected override short SiloCount => 3;

    protected override void ProbeLearnerCode() => Probes.Map(new DistributedMapOptions());

    private static DistributedMapOptions Options(int chunkSize, int inFlight) =>
        new() { ChunkSize = chunkSize, MaxChunksInFlight = inFlight, ChunkTimeout = TimeSpan.FromSeconds(30), MaxAttempts = 3 };

    [Test]
    public void Every_silo_runs_some_of_the_chunks()
    {
        long[] numbers = Oracle.Numbers(300);
        MapResult result = Map(NewMap(Options(chunkSize: 10, inFlight: 6)), numbers, MapFailed);
        ShouldBeComplete(result, numbers, chunkSize: 10);

        var ran = ChunkSpy.Calls().Where(c => c.State == ChunkCallState.Answered).GroupBy(c => c.Silo).ToDictionary(g => g.Key, g => g.Count());
        foreach (SiloAddress silo in Silos.Select(s => s.SiloAddress))
        {
            ran.ContainsKey(silo).ShouldBeTrue(
                $"Silo {silo} of 3 ran none of the 30 chunks (the silos ran: {string.Join(", ", ran.Select(r => $"{r.Key}: {r.Value}"))}). {OneRoute}");
        }
    }

    [Test]
    public void Each_chunk_reports_the_silo_whose_answer_it_took()
    {
        long[] numbers = Oracle.Numbers(120, start: 40_000_000);
        MapResult result = Map(NewMap(Options(chunkSize: 10, inFlight: 4)), numbers, MapFailed);
        ShouldBeComplete(result, numbers, chunkSize: 10);

        IReadOnlyList<ChunkCall> calls = ChunkSpy.Calls();
        foreach (ChunkReport chunk in result.Chunks)
        {
            ChunkCall answered = calls.Single(c => c.First == numbers[chunk.Offset] && c.State == ChunkCallState.Answered);
            chunk.Silo.ShouldBe(answered.Silo,
                $"The chunk at offset {chunk.Offset} ran on silo {answered.Silo}, but its report says {chunk.Silo}. Report the Silo of the " +
                "ChunkResult that answered: it is the only witness of where the work was done.");
        }

        result.Chunks.Select(c => c.Silo).Distinct().Count().ShouldBe(3, $"The 12 chunks report fewer than the 3 silos that ran them. {OneRoute}");
    }

    [Test]
    public void The_chunks_in_flight_at_once_run_on_every_silo()
    {
        // Every chunk is held where it lands: the six in flight at once must be spread over the three silos, all working together.
        long[] numbers = Oracle.Numbers(60, start: 50_000_000);
        ChunkSpy.Rule = _ => ChunkAction.Hold;
        Task<MapResult> mapping = NewMap(Options(chunkSize: 5, inFlight: 6)).MapAsync(numbers);

        ChunkSpy.WaitUntil(calls => calls.Count(c => c.IsHeld) == 6,
            "Six chunks should be in flight, held where they landed (MaxChunksInFlight = 6). Fewer arrived: the others wait in one silo's " +
            $"queue for one grain id's few activations. {OneRoute}");
        var busy = ChunkSpy.Held().Select(c => c.Silo).Distinct().ToList();
        busy.Count.ShouldBe(3, $"The six chunks in flight at once are all on {string.Join(" and ", busy)}: the other silos sit idle. {OneRoute}");

        ChunkSpy.ReleaseAll();
        ShouldBeComplete(mapping.ShouldComplete("MapAsync never completed after the held chunks were released.", diagnosisIfFailed: MapFailed), numbers, 5);
    }
}
