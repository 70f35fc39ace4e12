namespace ConcurrencyKata;

/// <summary>
/// The source article's <c>is_prime</c>: trial division, deliberately CPU-bound. It is the work that
/// <see cref="PrimePool"/> farms out to worker processes.
/// </summary>
public static class Primes
{
    /// <summary>Whether <paramref name="n"/> is a prime number, by trial division up to its square root.</summary>
    /// <param name="n">Any <see cref="long"/>: negative numbers, 0 and 1 are not prime.</param>
    /// <returns><see langword="true"/> if <paramref name="n"/> has exactly two divisors, 1 and itself.</returns>
    /// <remarks>
    /// <para>Pure and thread-safe. Takes time proportional to the square root of <paramref name="n"/>'s smallest
    /// factor: microseconds for the article's numbers around 10 million, milliseconds around 10^13, and several
    /// seconds for a prime close to <see cref="long.MaxValue"/> (about 10^9 divisions).</para>
    /// <para>The loop bound never overflows: it is <c>d &lt;= n / d</c>, not <c>d * d &lt;= n</c>. The square of
    /// a divisor above 3 037 000 499 does not fit in a <see cref="long"/> and wraps around to a negative number,
    /// which is always "&lt;= n", so such a loop would never end for a prime near <see cref="long.MaxValue"/>.</para>
    /// </remarks>
    public static bool IsPrime(long n)
    {
        // Everything below 2 is not prime. Comparing, never negating: -long.MinValue does not exist.
        if (n < 2)
        {
            return false;
        }

        if (n < 4)
        {
            return true; // 2 and 3
        }

        if (n % 2 == 0 || n % 3 == 0)
        {
            return false;
        }

        // Every prime above 3 is 6k - 1 or 6k + 1, so only those candidates are tried: d and d + 2 for
        // d = 5, 11, 17, ... That is a third of the numbers, where the article's loop tries half (the odd ones).
        // d <= n / d is d * d <= n without the multiplication, so it cannot overflow.
        for (long d = 5; d <= n / d; d += 6)
        {
            if (n % d == 0 || n % (d + 2) == 0)
            {
                return false;
            }
        }

        return true;
    }
}
