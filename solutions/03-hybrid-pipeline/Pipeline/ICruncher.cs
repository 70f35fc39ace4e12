// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
namespace ConcurrencyKata;

/// <summary>
/// The CPU stage of the pipeline: turns one payload into a <see cref="CrunchResult"/>. The reference is
/// <see cref="PrimePoolCruncher"/>, which farms the work out to exercise 02's pool of worker processes; the tests
/// also supply their own (in-process, gated, counting) crunchers.
/// </summary>
public interface ICruncher
{
    /// <summary>Crunches one payload. May be called by several threads at once, for different payloads.</summary>
    /// <param name="payload">The payload.</param>
    /// <param name="cancellationToken">Stops the work; the task then ends as cancelled.</param>
    /// <returns>A task with the result. A failed task fails only this payload's item in the pipeline.</returns>
    Task<CrunchResult> CrunchAsync(Payload payload, CancellationToken cancellationToken);
}
