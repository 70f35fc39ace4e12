using System.Globalization;

namespace ConcurrencyKata.Tests.PrimePoolTests;

/// <summary>
/// Step 1: <see cref="Primes.IsPrime"/>, the CPU-bound work the pool farms out, correct on the whole range of
/// <see cref="long"/>. Every number here is checked in milliseconds by a correct trial division; the calls that
/// could loop for long run on a <see cref="LearnerThread"/> with a deadline. See exercises/02-prime-pool/README.md.
/// </summary>
/// <remarks>
/// One thing cannot be tested in milliseconds: a <c>d * d &lt;= n</c> bound with a <see cref="long"/> divisor only
/// overflows for a divisor above 3 037 000 499, which only a prime above 9.22 × 10^18 reaches, after about
/// 10^9 trial divisions (seconds). The tests catch the same mistake with an <see cref="int"/> divisor, which
/// overflows above 46 340, and the README explains the long case.
/// </remarks>
[Step(1)]
[TestFixture]
public sealed class Step1_IsPrime : ConcurrencyTest
{
    private const string LoopBound =
        "Does the loop bound overflow? With an int divisor, d * d wraps around to a negative number above 46 340, so d * d <= n " +
        "stays true and the loop runs on through every int. Use a long divisor and write the bound as d <= n / d, which " +
        "cannot overflow (d * d overflows a long too, above 3 037 000 499).";

    private const string SquareRoot =
        "Every divisor up to the square root must be tried, up to and including the square root itself: d <= n / d (which is " +
        "d * d <= n without the overflow), not d < n / d, and no shortcut that skips candidates.";

    [Test]
    public void Numbers_below_two_are_not_prime()
    {
        foreach (long n in new[] { long.MinValue, long.MinValue + 1, -1_000_000_007L, -7, -2, -1, 0, 1 })
        {
            Check(n).ShouldBeFalse(
                $"IsPrime({Show(n)}) must be false: primes are whole numbers above 1, and a negative number is never prime " +
                "(not even -7). Compare with 2; do not negate or Math.Abs a negative n: for long.MinValue that overflows.");
        }
    }

    [Test]
    public void Two_and_three_are_prime_and_no_other_even_number_is()
    {
        Check(2).ShouldBeTrue("IsPrime(2) must be true: 2 is the only even prime. Check n == 2 before rejecting even numbers.");
        Check(3).ShouldBeTrue("IsPrime(3) must be true: 3 is prime, although the loop over divisors never runs for it.");
        foreach (long n in new[] { 4L, 6, 8, 1_000_000, 2L * 1_000_000_007, long.MaxValue - 1 })
        {
            Check(n).ShouldBeFalse($"IsPrime({Show(n)}) must be false: an even number above 2 is divisible by 2.");
        }
    }

    [Test]
    public void IsPrime_agrees_with_a_sieve_up_to_100_000()
    {
        const int Limit = 100_000;
        bool[] composite = new bool[Limit + 1];
        composite[0] = composite[1] = true;
        for (int p = 2; p * p <= Limit; p++)
        {
            if (!composite[p])
            {
                for (int multiple = p * p; multiple <= Limit; multiple += p)
                {
                    composite[multiple] = true;
                }
            }
        }

        bool[] verdicts = (bool[])LearnerThread.Start("is-prime", () => Enumerable.Range(0, Limit + 1).Select(n => Primes.IsPrime(n)).ToArray())
            .ShouldFinish(
                $"IsPrime for the numbers 0 to {Limit} has not finished. {LoopBound}",
                Deadlines.HangAtLeast(TimeSpan.FromSeconds(10)))!;
        for (int n = 0; n <= Limit; n++)
        {
            if (verdicts[n] != !composite[n])
            {
                int root = (int)Math.Sqrt(n);
                Assert.Fail(
                    $"IsPrime({n}) must be {!composite[n]} (the sieve of Eratosthenes says so)" +
                    (composite[n] && n > 1 && root * root == n
                        ? $": it is {root} squared. {SquareRoot}"
                        : composite[n] && n > 1 ? $". {SquareRoot}" : n < 4 ? ". 2 and 3 are prime (2 is the only even prime), 0 and 1 are not." : "."));
            }
        }
    }

    [Test]
    public void Squares_of_primes_are_not_prime()
    {
        foreach (long p in new[] { 2L, 3, 5, 7, 11, 13, 97, 10_007, 46_349, 1_000_003, 9_999_991 })
        {
            long square = p * p;
            Check(square).ShouldBeFalse(
                $"IsPrime({Show(square)}) must be false: it is {Show(p)} squared. {SquareRoot}");
        }
    }

    [Test]
    public void The_articles_four_numbers()
    {
        // The source article runs is_prime over these in a ProcessPoolExecutor. 10 000 129 = 89 × 112 361.
        // The value is the smallest factor, or 0 for a prime.
        var expected = new Dictionary<long, long>
        {
            [10_000_019] = 0,
            [10_000_079] = 0,
            [10_000_103] = 0,
            [10_000_129] = 89,
        };
        foreach ((long n, long factor) in expected)
        {
            Check(n).ShouldBe(
                factor == 0,
                factor == 0
                    ? $"IsPrime({Show(n)}) must be true: it is prime."
                    : $"IsPrime({Show(n)}) must be false: {Show(factor)} × {Show(n / factor)} = {Show(n)}. {SquareRoot}");
        }
    }

    [Test]
    public void Large_primes_are_recognised_in_milliseconds()
    {
        // From int.MaxValue (a Mersenne prime, 2^31 - 1) to about 10^14: a correct loop needs at most a few million
        // divisions for each, milliseconds. A loop whose bound overflows runs through billions.
        foreach (long p in new[] { 2_147_483_647L, 2_147_483_659, 4_294_967_291, 4_294_967_311, 999_999_999_989, 1_000_000_000_039, 100_000_000_000_031 })
        {
            Check(p).ShouldBeTrue($"IsPrime({Show(p)}) must be true: it is prime. {LoopBound}");
        }
    }

    [Test]
    public void Composites_near_long_MaxValue_are_not_prime()
    {
        // long.MaxValue = 7² × 73 × 127 × 337 × 92 737 × 649 657. The last one has no factor below 9 999 991.
        var composites = new Dictionary<long, long>
        {
            [long.MaxValue] = 7,
            [long.MaxValue - 2] = 5,
            [9_223_372_036_854_775_801] = 157,
            [9_223_372_036_854_775_777] = 584_911,
            [9_223_372_036_327_696_367] = 9_999_991, // × 922 338 033 737
        };
        foreach ((long n, long factor) in composites)
        {
            Check(n).ShouldBeFalse(
                $"IsPrime({Show(n)}) must be false: {Show(factor)} divides it. {SquareRoot} Near long.MaxValue, anything that computes " +
                "n + 1, 2 * n or d * d for a large d overflows.");
        }
    }

    /// <summary>Runs IsPrime(n) on a learner thread: a deadline for a loop that runs away, and a named failure for
    /// an exception (OverflowException from Math.Abs(long.MinValue), say).</summary>
    private static bool Check(long n) =>
        (bool)LearnerThread.Start($"IsPrime({Show(n)})", () => Primes.IsPrime(n)).ShouldFinish(
            $"IsPrime({Show(n)}) has not returned, where a correct trial division needs milliseconds. {LoopBound}",
            diagnosisIfThrew: "IsPrime must answer for every long, from long.MinValue to long.MaxValue, without throwing. " +
                              "Math.Abs(long.MinValue) and -long.MinValue overflow: compare n with 2 instead.")!;

    private static string Show(long n) => n.ToString("N0", CultureInfo.InvariantCulture).Replace(",", " ", StringComparison.Ordinal);
}
