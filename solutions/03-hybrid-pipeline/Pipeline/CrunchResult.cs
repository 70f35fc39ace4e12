// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
namespace ConcurrencyKata;

/// <summary>What crunching one payload found: the primes among its numbers, in payload order.</summary>
/// <param name="Primes">The payload's numbers that are prime, in the order they came.</param>
public sealed record CrunchResult(IReadOnlyList<long> Primes);
