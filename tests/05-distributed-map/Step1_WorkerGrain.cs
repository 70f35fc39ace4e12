namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>
/// Step 1: PrimeWorkerGrain, called through the cluster client like any caller would, on a real cluster of two silos.
/// The tests call the grain themselves: no map yet.
/// </summary>
[Step(1)]
[TestFixture]
[NonParallelizable]
public sealed class Step1_WorkerGrain : ClusterTest
{
    private const string NoAnswer =
        "The worker grain never answered. Does CheckAsync return a completed task with the verdicts (Task.FromResult), and does the " +
        "silo find your grain (a class that implements IPrimeWorkerGrain, derives from Grain, and is public)?";

    private static long s_nextId = 1_000_000;

    protected override short SiloCount => 2;

    protected override void ProbeLearnerCode() => Probes.WorkerGrain();

    /// <summary>A grain id no other call of this run has used.</summary>
    private static long FreshId() => Interlocked.Increment(ref s_nextId);

    private IPrimeWorkerGrain Worker(long id)
    {
        Probes.WorkerGrain();
        return Client.GetGrain<IPrimeWorkerGrain>(id);
    }

    [Test]
    public void A_chunk_gets_one_verdict_per_number_in_order_and_each_call_only_its_own()
    {
        IPrimeWorkerGrain worker = Worker(FreshId());
        long[] first = [10_000_019, 10_000_020, 2, 1, 0, -7, 10_000_079, 91, 10_000_129, 3];
        long[] second = [97, 98, 10_000_103];

        ChunkResult one = worker.CheckAsync(first).ShouldComplete(NoAnswer);
        one.Verdicts.ShouldBe(Oracle.Verdicts(first),
            "CheckAsync answers one verdict per number, in the chunk's order, from Primes.IsPrime (exercise 02): 10 000 019 is prime, " +
            "10 000 129 = 89 × 112 361 is not, and nothing below 2 is.");

        // The same grain id again: a stateless worker's activation lives on between calls (docs/testing.md, rule 16).
        ChunkResult two = worker.CheckAsync(second).ShouldComplete(NoAnswer);
        two.Verdicts.ShouldBe(Oracle.Verdicts(second),
            "The second call on the same grain id got verdicts that are not its own: an activation lives on between calls and serves them one " +
            "after another. Keep each call's verdicts in a local array, never in a field of the grain.");
    }

    [Test]
    public void Bad_input_fails_that_call_with_an_ArgumentException_and_the_worker_goes_on()
    {
        IPrimeWorkerGrain worker = Worker(FreshId());

        worker.CheckAsync(null!).ShouldFail<ArgumentNullException>(NoAnswer,
            "CheckAsync(null) must fail with ArgumentNullException: validate the chunk in the grain; the exception travels back to the caller " +
            "as the same type.");
        worker.CheckAsync([]).ShouldFail<ArgumentException>(NoAnswer,
            "CheckAsync of an empty chunk must fail with ArgumentException (a chunk holds at least one number).");

        ChunkResult after = worker.CheckAsync([7, 8]).ShouldComplete(NoAnswer,
            diagnosisIfFailed: "A bad chunk fails that call only: the worker serves the next call as usual.");
        after.Verdicts.ShouldBe([true, false], "After a rejected chunk, the worker still answers the next one: 7 is prime, 8 is not.");
    }

    [Test]
    public void Each_result_names_the_silo_that_ran_it()
    {
        // Twelve grain ids: the client spreads them over both silos' gateways, so both silos run some.
        var results = new List<(long First, ChunkResult Result)>();
        for (int i = 0; i < 12; i++)
        {
            long first = 20_000_000 + (i * 10);
            IPrimeWorkerGrain worker = Worker(FreshId());
            results.Add((first, worker.CheckAsync([first, first + 1]).ShouldComplete(NoAnswer)));
        }

        IReadOnlyList<ChunkCall> calls = ChunkSpy.Calls();
        var silos = Silos.Select(s => s.SiloAddress).ToList();
        foreach ((long first, ChunkResult result) in results)
        {
            ChunkCall call = calls.Single(c => c.First == first);
            result.Silo.ShouldNotBeNull($"The result for chunk {first} names no silo: set ChunkResult.Silo to the silo the grain runs on.");
            result.Silo.ShouldBe(call.Silo,
                $"Chunk {first} ran on silo {call.Silo}, but its result says {result.Silo}. Report the silo the activation lives on: take " +
                "ILocalSiloDetails from the grain's constructor (the silo's own services) and its SiloAddress.");
            silos.ShouldContain(result.Silo, $"The result for chunk {first} names {result.Silo}, which is no silo of this cluster.");
        }

        results.Select(r => r.Result.Silo).Distinct().Count().ShouldBe(calls.Select(c => c.Silo).Distinct().Count(),
            "The results name fewer silos than really ran the chunks: each result reports its own silo, not one fixed address.");
    }

    [Test]
    public void One_grain_id_serves_several_calls_at_once()
    {
        // Two calls on one grain id, both held at the silo: a stateless worker runs them on two activations at once; a plain
        // grain has one activation, which takes one call at a time, so the second never arrives while the first is held.
        IPrimeWorkerGrain worker = Worker(FreshId());
        ChunkSpy.Rule = _ => ChunkAction.Hold;
        Task<ChunkResult> a = worker.CheckAsync([30_000_001]);
        Task<ChunkResult> b = worker.CheckAsync([30_000_002]);

        ChunkSpy.WaitUntil(calls => calls.Count(c => c.IsHeld) == 2,
            "A [StatelessWorker] grain serves one grain id on several activations at once (one per core, by default). Mark PrimeWorkerGrain " +
            "[StatelessWorker]: a plain grain has a single activation that runs one call at a time, and the second call waits behind the first.");

        ChunkSpy.ReleaseAll();
        a.ShouldComplete(NoAnswer).Verdicts.ShouldBe([Oracle.IsPrime(30_000_001)]);
        b.ShouldComplete(NoAnswer).Verdicts.ShouldBe([Oracle.IsPrime(30_000_002)]);
    }
}
