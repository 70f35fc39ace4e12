namespace ConcurrencyKata.Tests.PrimePoolTests;

/// <summary>The tests' own answers, computed independently of the code under test.</summary>
internal static class Oracle
{
    /// <summary>Plain trial division by every odd number: slow but obviously right. For test data up to about 10^12.</summary>
    public static bool IsPrime(long n)
    {
        if (n < 2)
        {
            return false;
        }

        if (n % 2 == 0)
        {
            return n == 2;
        }

        for (long d = 3; d <= n / d; d += 2)
        {
            if (n % d == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The protocol's verdicts for <paramref name="numbers"/>: one '1' or '0' per number.</summary>
    public static string Verdicts(IEnumerable<long> numbers) => string.Concat(numbers.Select(n => IsPrime(n) ? '1' : '0'));

    /// <summary><paramref name="count"/> distinct numbers, about a third of them prime, in a shuffled order that
    /// depends only on <paramref name="seed"/> (docs/testing.md, rule 13: reproducible).</summary>
    public static long[] DistinctNumbers(int count, int seed)
    {
        var random = new Random(seed);
        var chosen = new HashSet<long>();
        while (chosen.Count < count)
        {
            long n = random.NextInt64(2, 2_000_000_000);

            // Walk up to the next prime for every third number, so that both verdicts are common.
            if (chosen.Count % 3 == 0)
            {
                while (!IsPrime(n))
                {
                    n++;
                }
            }

            chosen.Add(n);
        }

        return chosen.ToArray();
    }
}
