// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
namespace ConcurrencyKata;

/// <summary>What a <see cref="IPrimeWorkerGrain"/> answers for one chunk: a verdict per number and where it ran.
/// It crosses the network, so Orleans generates its serializer (<c>[GenerateSerializer]</c>, one <c>[Id]</c> per
/// field).</summary>
[GenerateSerializer]
[Immutable]
public sealed class ChunkResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="verdicts">One verdict per number of the chunk, in order: true if it is prime.</param>
    /// <param name="silo">The silo that ran the check.</param>
    public ChunkResult(bool[] verdicts, SiloAddress silo)
    {
        Verdicts = verdicts;
        Silo = silo;
    }

    /// <summary>One verdict per number of the chunk, in order: true if it is prime.</summary>
    [Id(0)]
    public bool[] Verdicts { get; }

    /// <summary>The silo that ran the check (its <c>ILocalSiloDetails.SiloAddress</c>).</summary>
    [Id(1)]
    public SiloAddress Silo { get; }
}
