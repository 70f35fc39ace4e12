namespace ConcurrencyKata.Tests.DistributedMapTests;

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

    /// <summary>The verdicts for <paramref name="numbers"/>, in order.</summary>
    public static bool[] Verdicts(IEnumerable<long> numbers) => numbers.Select(IsPrime).ToArray();

    /// <summary><paramref name="count"/> distinct numbers from <paramref name="start"/> up (primes and composites
    /// mixed), so that a chunk is known by its first number.</summary>
    public static long[] Numbers(int count, long start = 10_000_000) => Enumerable.Range(0, count).Select(i => start + i).ToArray();
}
