// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
namespace ConcurrencyKata;

/// <summary>What <see cref="DistributedPrimeMap.MapAsync"/> returns: the verdicts, in input order, and a report per
/// chunk, in input order.</summary>
/// <param name="Verdicts">One verdict per input number, in input order: true if it is prime.</param>
/// <param name="Chunks">One report per chunk, ordered by <see cref="ChunkReport.Offset"/>: together they cover every
/// input index exactly once.</param>
public sealed record MapResult(IReadOnlyList<bool> Verdicts, IReadOnlyList<ChunkReport> Chunks);
