namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>What a test tells the silos to do with one chunk call (see <see cref="ChunkSpy.Rule"/>).</summary>
public enum ChunkAction
{
    /// <summary>Let it through to the worker grain.</summary>
    Pass,

    /// <summary>Hold it, in flight, until the test releases it (or the caller cancels it: the silo-side token fires).</summary>
    Hold,

    /// <summary>Fail it on the silo with <see cref="ChunkSpy.InjectedFailure"/>, as if the grain had thrown it.</summary>
    Fail,
}

/// <summary>How a chunk call ended on its silo.</summary>
public enum ChunkCallState
{
    /// <summary>Arrived; held or running.</summary>
    Running,

    /// <summary>The worker grain answered.</summary>
    Answered,

    /// <summary>It threw (the worker grain, or an injected failure).</summary>
    Failed,

    /// <summary>The caller cancelled it while it was held: Orleans fired the silo-side token.</summary>
    Cancelled,
}

/// <summary>One call of <see cref="IPrimeWorkerGrain.CheckAsync"/> as a silo saw it (recorded by <see cref="ChunkSpyFilter"/>).</summary>
public sealed class ChunkCall
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal ChunkCall(int generation, SiloAddress silo, long[] numbers, int attempt)
    {
        Generation = generation;
        Silo = silo;
        Numbers = numbers;
        Attempt = attempt;
    }

    /// <summary>The test that saw it (<see cref="ChunkSpy.Reset"/> starts a new generation).</summary>
    public int Generation { get; }

    /// <summary>The silo it reached.</summary>
    public SiloAddress Silo { get; }

    /// <summary>The chunk (a copy).</summary>
    public long[] Numbers { get; }

    /// <summary>The first number, which names the chunk in the tests' data (every number is distinct); long.MinValue for an empty chunk.</summary>
    public long First => Numbers.Length > 0 ? Numbers[0] : long.MinValue;

    /// <summary>How many calls for this chunk (same first number) reached a silo in this test, this one included.</summary>
    public int Attempt { get; }

    /// <summary>How it ended so far. Written under the spy's lock.</summary>
    public ChunkCallState State { get; internal set; }

    /// <summary>Whether it is held right now. Written under the spy's lock.</summary>
    public bool IsHeld { get; internal set; }

    /// <summary>Lets a held call go on to the worker grain.</summary>
    public void Release() => _release.TrySetResult();

    internal Task WaitForReleaseAsync(CancellationToken cancellationToken) => _release.Task.WaitAsync(cancellationToken);

    /// <inheritdoc/>
    public override string ToString() => $"chunk {First} (attempt {Attempt}) on {Silo}: {State}{(IsHeld ? ", held" : "")}";
}
