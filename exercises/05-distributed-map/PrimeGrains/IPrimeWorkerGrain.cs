// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
namespace ConcurrencyKata;

/// <summary>
/// A worker that checks one chunk of numbers for primality, wherever in the cluster it runs: the grain interface
/// (Orleans' counterpart of a Ray <c>@ray.remote</c> function). A caller gets a reference with
/// <c>grains.GetGrain&lt;IPrimeWorkerGrain&gt;(id)</c> and calls it like a local object; the call is a message to a
/// silo, and the returned task is a future that completes when the reply comes back, or fails.
/// </summary>
/// <remarks>
/// The implementation is <see cref="PrimeWorkerGrain"/> (Step 1). Every argument and result crosses the network:
/// Orleans serializes them (the types are marked <c>[GenerateSerializer]</c>), so the grain never shares memory with
/// its caller.
/// </remarks>
public interface IPrimeWorkerGrain : IGrainWithIntegerKey
{
    /// <summary>Checks every number of <paramref name="numbers"/> with exercise 02's <c>Primes.IsPrime</c>, in order.</summary>
    /// <param name="numbers">The chunk: at least one number.</param>
    /// <param name="cancellationToken">Cancels the call: the caller's task ends as cancelled at once, and Orleans
    /// tells the grain, which stops between two numbers.</param>
    /// <returns>One verdict per number, in order, and the silo that ran the check.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="numbers"/> is null (through the task: a grain's
    /// exceptions travel back to the caller as the same exception type).</exception>
    /// <exception cref="ArgumentException"><paramref name="numbers"/> is empty.</exception>
    Task<ChunkResult> CheckAsync(long[] numbers, CancellationToken cancellationToken = default);
}
