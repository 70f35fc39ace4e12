using System.Globalization;

namespace ConcurrencyKata.Tests.PrimePoolTests;

/// <summary>
/// Compares what MapAsync returned with the right verdicts and, when they differ, names the rule the difference
/// points to: a chunk that never came back (all false: its verdicts were never written), chunks in the wrong order,
/// a wrong count. So every MapAsync test says the same thing about the same mistake, whichever fails first.
/// </summary>
internal static class MapVerdicts
{
    /// <summary>Requires <paramref name="actual"/> to equal <paramref name="expected"/>, or fails with the likely cause.</summary>
    /// <param name="actual">What MapAsync returned.</param>
    /// <param name="expected">The right verdicts, one per number, in input order.</param>
    /// <param name="chunkSize">The chunk size of the call.</param>
    /// <param name="what">Which call, for the message, e.g. "500 numbers, chunkSize 7".</param>
    public static void ShouldBe(IReadOnlyList<bool> actual, IReadOnlyList<bool> expected, int chunkSize, string what)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(expected);
        int count = expected.Count;
        if (actual.Count != count)
        {
            Assert.Fail(
                $"{what}: MapAsync returned {actual.Count} verdicts for {count} numbers. One verdict per number, in input order: a result " +
                "array as long as the input, each chunk writing its own slice.");
        }

        int first = Enumerable.Range(0, count).FirstOrDefault(i => actual[i] != expected[i], -1);
        if (first < 0)
        {
            return;
        }

        long chunks = ((long)count + chunkSize - 1) / chunkSize;
        var missing = new List<long>();
        for (long chunk = 0; chunk < chunks; chunk++)
        {
            var (start, end) = Bounds(chunk, chunkSize, count);
            bool differs = Enumerable.Range(start, end - start).Any(i => actual[i] != expected[i]);
            bool allFalse = Enumerable.Range(start, end - start).All(i => !actual[i]);
            if (differs && allFalse)
            {
                missing.Add(chunk);
            }
        }

        bool onlyMissing = Enumerable.Range(0, count).All(i => actual[i] == expected[i] || missing.Contains(i / chunkSize));
        var (lastStart, _) = Bounds(chunks - 1, chunkSize, count);
        if (onlyMissing && missing.Count == 1 && missing[0] == chunks - 1 && count % chunkSize != 0)
        {
            Assert.Fail(
                $"{what}: the last, shorter chunk is missing: numbers {Show(lastStart)} to {Show(count - 1)} ({Show(count - lastStart)} of them, " +
                $"chunkSize {Show(chunkSize)}) came back all false, though some are prime. Send every chunk, the last one too when chunkSize " +
                "does not divide the count: for (start = 0; start < count; start += chunkSize), each chunk with Math.Min(chunkSize, count - " +
                "start) numbers.");
        }

        if (onlyMissing)
        {
            Assert.Fail(
                $"{what}: chunk(s) {string.Join(", ", missing.Select(Show))} came back all false, though some of their numbers are prime: " +
                "their verdicts were never written. Every chunk is sent, and each writes its verdicts at its own offset in the result.");
        }

        Assert.Fail(
            $"{what}: number {Show(first)} should be {(expected[first] ? "prime" : "not prime")}. MapAsync returns the verdicts in input order, " +
            "whatever order the chunks finish in, and each reply goes to the request with its id. Put each chunk's verdicts at that " +
            "chunk's offset in the result, not at the end of a list in completion order.");
    }

    private static (int Start, int End) Bounds(long chunk, int chunkSize, int count)
    {
        long start = chunk * chunkSize;
        return ((int)start, (int)Math.Min(start + chunkSize, count));
    }

    private static string Show(long n) => n.ToString("N0", CultureInfo.InvariantCulture).Replace(",", " ", StringComparison.Ordinal);
}
