using Orleans.TestingHost;

namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>
/// Base class of every fixture that runs on the in-process test cluster: one real cluster per fixture, started once
/// (in the fixture's one-time set-up, with a deadline) and stopped at its end, and only if the learner's code has
/// got past its stubs (<see cref="Probes"/>): on the stubs, no cluster starts and every test fails at once with the
/// stub's NotImplementedException. Before each test the <see cref="ChunkSpy"/> starts a new generation; after each
/// test every held chunk call is released, so no learner task stays parked.
/// </summary>
public abstract class ClusterTest : ChildProcessTest
{
#pragma warning disable NUnit1032 // ClusterHost.Stop disposes it, with a deadline, in StopCluster.
    private TestCluster? _cluster;
#pragma warning restore NUnit1032

    /// <summary>How many silos the fixture's cluster has.</summary>
    protected abstract short SiloCount { get; }

    /// <summary>The fixture's cluster (started at once if the one-time set-up did not).</summary>
    protected TestCluster Cluster => _cluster ??= ClusterHost.Start(SiloCount);

    /// <summary>The cluster client: how the tests, and your map, reach the silos.</summary>
    protected IClusterClient Client => Cluster.Client;

    /// <summary>Throws the stub's NotImplementedException if the code this fixture tests is not written yet.</summary>
    protected abstract void ProbeLearnerCode();

    [OneTimeSetUp]
    public void StartCluster()
    {
        try
        {
            ProbeLearnerCode();
        }
        catch (NotImplementedException)
        {
            return; // the stubs: every test fails on its own probe, at once
        }

        _cluster = ClusterHost.Start(SiloCount);
    }

    [OneTimeTearDown]
    public void StopCluster()
    {
        ChunkSpy.ReleaseAll();
        ClusterHost.Stop(_cluster);
        _cluster = null;
    }

    [SetUp]
    public void NewSpyGeneration() => ChunkSpy.Reset();

    [TearDown]
    public void ReleaseHeldChunks() => ChunkSpy.ReleaseAll();

    /// <summary>A map on the fixture's cluster (after the stub probe).</summary>
    protected DistributedPrimeMap NewMap(DistributedMapOptions options)
    {
        Probes.Map(options);
        return new DistributedPrimeMap(Client, options);
    }

    /// <summary>Runs the map with a deadline and returns its result.</summary>
    protected static MapResult Map(DistributedPrimeMap map, IReadOnlyList<long> numbers, string diagnosisIfFailed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(map);
        return map.MapAsync(numbers, cancellationToken).ShouldComplete(
            "MapAsync never completed. Does every chunk call end (an answer, an exception, or this attempt's own timeout), and does the map " +
            "await them all? " + ChunkSpy.Describe(),
            diagnosisIfFailed: diagnosisIfFailed);
    }

    /// <summary>The active silos of the fixture's cluster.</summary>
    protected IReadOnlyList<SiloHandle> Silos => Cluster.GetActiveSilos().ToList();

    /// <summary>Requires <paramref name="result"/> to hold exactly the right verdicts, in input order, and chunks that
    /// cover every index exactly once, in order.</summary>
    protected static void ShouldBeComplete(MapResult result, IReadOnlyList<long> numbers, int chunkSize)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(numbers);
        int expectedChunks = (numbers.Count + chunkSize - 1) / chunkSize;
        result.Chunks.Count.ShouldBe(expectedChunks,
            $"{numbers.Count} numbers in chunks of {chunkSize} make {expectedChunks} chunks (the last one partial if it must be), but the " +
            $"result reports {result.Chunks.Count}: round the chunk count up ((count + chunkSize - 1) / chunkSize), and report each chunk exactly once.");
        int next = 0;
        foreach (ChunkReport chunk in result.Chunks)
        {
            chunk.Offset.ShouldBe(next, $"The chunk reports follow the input, each exactly once, without a gap or an overlap: a chunk at offset {next} was expected, not {chunk.Offset}.");
            chunk.Count.ShouldBe(Math.Min(chunkSize, numbers.Count - next), $"The chunk at offset {next} should hold {Math.Min(chunkSize, numbers.Count - next)} numbers.");
            chunk.Attempts.ShouldBeGreaterThanOrEqualTo(1, $"The chunk at offset {next} reports {chunk.Attempts} attempts: a chunk takes at least one.");
            chunk.Silo.ShouldNotBeNull($"The chunk at offset {next} reports no silo: take it from the ChunkResult of the attempt that answered.");
            next += chunk.Count;
        }

        result.Verdicts.Count.ShouldBe(numbers.Count,
            $"Exactly once: {numbers.Count} numbers went in and {result.Verdicts.Count} verdicts came out. Each number has exactly one verdict, " +
            "whatever was retried: write a chunk's verdicts at its offset, once, from the one attempt whose answer you took.");
        bool[] expected = Oracle.Verdicts(numbers);
        for (int i = 0; i < numbers.Count; i++)
        {
            if (result.Verdicts[i] != expected[i])
            {
                Assert.Fail($"Verdict {i} (for {numbers[i]}) is {result.Verdicts[i]}, but {numbers[i]} is {(expected[i] ? "" : "not ")}prime. " +
                            "Verdicts come back in input order: put each chunk's verdicts at that chunk's offset, not in the order the chunks finish.");
            }
        }
    }
}
