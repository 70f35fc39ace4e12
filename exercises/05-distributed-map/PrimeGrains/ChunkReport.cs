// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
namespace ConcurrencyKata;

/// <summary>How one chunk of a <see cref="DistributedPrimeMap.MapAsync"/> ended: which numbers it held, which silo
/// answered it, and after how many attempts.</summary>
/// <param name="Offset">The index of the chunk's first number in the input.</param>
/// <param name="Count">How many numbers it held (the last chunk may hold fewer than the chunk size).</param>
/// <param name="Silo">The silo whose answer is in the result (the <see cref="ChunkResult.Silo"/> of the attempt
/// that succeeded).</param>
/// <param name="Attempts">How many attempts it took, the successful one included: 1 when nothing was lost.</param>
public sealed record ChunkReport(int Offset, int Count, SiloAddress Silo, int Attempts);
