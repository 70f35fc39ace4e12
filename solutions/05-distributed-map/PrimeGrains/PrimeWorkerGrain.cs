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
    /// <summary>The silo this activation lives on: set once, from the silo's own services, and never changed.</summary>
    private readonly SiloAddress _silo;

    /// <summary>Creates an activation. Orleans calls it, with the services of the silo it activates on.</summary>
    /// <param name="siloDetails">The local silo, for the address every result reports.</param>
    /// <exception cref="ArgumentNullException"><paramref name="siloDetails"/> is null.</exception>
    public PrimeWorkerGrain(ILocalSiloDetails siloDetails)
    {
        ArgumentNullException.ThrowIfNull(siloDetails);
        _silo = siloDetails.SiloAddress;
    }

    /// <summary>Checks every number of <paramref name="numbers"/> with <see cref="Primes.IsPrime"/>, in order.</summary>
    /// <param name="numbers">The chunk: at least one number.</param>
    /// <param name="cancellationToken">Cancels the call; checked between two numbers.</param>
    /// <returns>One verdict per number, in order, and this silo's address.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="numbers"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="numbers"/> is empty.</exception>
    public Task<ChunkResult> CheckAsync(long[] numbers, CancellationToken cancellationToken = default)
    {
        // Thrown here, in the silo, and rethrown in the caller as the same type: a bad chunk fails that call only.
        ArgumentNullException.ThrowIfNull(numbers);
        if (numbers.Length == 0)
        {
            throw new ArgumentException("A chunk holds at least one number.", nameof(numbers));
        }

        // A new array per call: an activation serves call after call, and nothing of this one may leak into the next.
        var verdicts = new bool[numbers.Length];
        for (int i = 0; i < numbers.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            verdicts[i] = Primes.IsPrime(numbers[i]);
        }

        return Task.FromResult(new ChunkResult(verdicts, _silo));
    }
}
