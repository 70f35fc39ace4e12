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
    /// <para>Pure and thread-safe. Must be correct for every <see cref="long"/>, from <see cref="long.MinValue"/> to
    /// <see cref="long.MaxValue"/>, and fast enough that numbers up to about 10^14 take milliseconds.</para>
    /// <para>The loop bound must not overflow: the square of a divisor above 3 037 000 499 does not fit in a
    /// <see cref="long"/> (and the square of an <see cref="int"/> above 46 340 does not fit in an int).</para>
    /// </remarks>
    public static bool IsPrime(long n)
    {
        // Everything below 2 is not prime, negative numbers included. Compare; never negate (-long.MinValue overflows).
        if (n < 2)
        {
            return false;
        }

        // 2 is prime; other even numbers are not.
        if (n % 2 == 0)
        {
            return n == 2;
        }

        // Odd divisors up to the square root. d <= n / d is d * d <= n without the multiplication: it cannot overflow.
        for (long d = 3; d <= n / d; d += 2)
        {
            if (n % d == 0)
            {
                return false;
            }
        }

        return true;
    }
}
