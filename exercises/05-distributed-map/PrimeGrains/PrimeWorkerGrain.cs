using Orleans.Concurrency;

namespace ConcurrencyKata;

/// <summary>
/// Step 1: the worker grain. It checks one chunk of numbers with exercise 02's <see cref="Primes.IsPrime"/> and says
/// which silo ran it: the remote function of the map, like a Ray task or a Dask worker's function.
/// </summary>
/// <remarks>
/// <para>A <c>[StatelessWorker]</c>: it keeps nothing between calls that matters, so Orleans may run as many
/// activations of one grain id as it likes (up to one per core on each silo), and always places them on the silo
/// that received the call. No grain directory entry, no single activation to wait for: any silo can serve any
/// chunk, which is what a retry after a lost silo needs.</para>
/// <para>An activation is reused by later calls: nothing of one call may be left in a field for the next.</para>
/// </remarks>
[StatelessWorker]
public sealed class PrimeWorkerGrain : Grain, IPrimeWorkerGrain
{
    // TODO (Step 1): one field: the address of the silo this activation lives on (siloDetails.SiloAddress). Document it.
    // Nothing else: a field that holds one call's data would leak into the next call on the same activation.

    /// <summary>Creates an activation. Orleans calls it, with the services of the silo it activates on.</summary>
    /// <param name="siloDetails">The local silo, for the address every result reports.</param>
    /// <exception cref="ArgumentNullException"><paramref name="siloDetails"/> is null.</exception>
    public PrimeWorkerGrain(ILocalSiloDetails siloDetails)
    {
        // TODO (Step 1): check the argument, keep siloDetails.SiloAddress.
        // (Nothing may throw NotImplementedException here: Orleans creates the grain before it calls CheckAsync, and the
        // stub's message below is the one the tests must show you.)
    }

    /// <summary>Checks every number of <paramref name="numbers"/> with <see cref="Primes.IsPrime"/>, in order.</summary>
    /// <param name="numbers">The chunk: at least one number.</param>
    /// <param name="cancellationToken">Cancels the call; checked between two numbers.</param>
    /// <returns>One verdict per number, in order, and this silo's address.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="numbers"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="numbers"/> is empty.</exception>
    public Task<ChunkResult> CheckAsync(long[] numbers, CancellationToken cancellationToken = default)
    {
        // TODO (Step 1): validate (ArgumentNullException, ArgumentException for an empty chunk): thrown in the silo, they
        // reach the caller as the same exception type, and fail that call only.
        // TODO (Step 1): a new bool[] per call; Primes.IsPrime for each number (your own, from exercise 02), checking the
        // token between two numbers; return Task.FromResult(new ChunkResult(verdicts, the silo's address)).
        throw new NotImplementedException("Step 1 (exercise 05): implement PrimeWorkerGrain.CheckAsync. See Step 1 in exercises/05-distributed-map/README.md.");
    }
}
