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
        // TODO (Step 1): everything below 2 is not prime (compare; do not negate: -long.MinValue overflows).
        // TODO (Step 1): 2 is prime; other even numbers are not.
        // TODO (Step 1): try odd divisors d while d <= n / d (the overflow-free form of d * d <= n).
        throw new NotImplementedException("Step 1 (exercise 02): implement Primes.IsPrime. See Step 1 in exercises/02-prime-pool/README.md.");
    }
}
