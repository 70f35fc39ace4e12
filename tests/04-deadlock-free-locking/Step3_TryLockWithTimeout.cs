using System.Diagnostics;

namespace ConcurrencyKata.Tests.Locking;

/// <summary>
/// Step 3: <c>TryTransfer</c> gives up after its timeout instead of waiting forever, changes nothing and keeps no lock
/// when it does, and honours the timeout. See exercises/04-deadlock-free-locking/README.md.
/// </summary>
[Step(3)]
[TestFixture]
public sealed class Step3_TryLockWithTimeout : ConcurrencyTest
{
    private const string IgnoredTryEnter =
        "Did you ignore TryEnter's result? When TryEnter returns false, this thread does not hold that lock: it must not " +
        "touch the balance, must not Exit that lock, must release the locks it did take, and return false.";

    [Test]
    public void TryTransfer_moves_the_money_when_the_locks_are_free()
    {
        var a = new Account("A", 100);
        var b = new Account("B", 0);
        var bank = new Bank([a, b]);

        Run.Quickly("TryTransfer A→B of 40 (1 s)", () => bank.TryTransfer("A", "B", 40, TimeSpan.FromSeconds(1)))
            .ShouldBeTrue("TryTransfer returns true when it moved the money.");
        Run.Quickly("TryTransfer B→A of 10 (no wait)", () => bank.TryTransfer("B", "A", 10, TimeSpan.Zero))
            .ShouldBeTrue("With TimeSpan.Zero, TryTransfer succeeds if both locks are free right now.");
        Run.Quickly("TryTransfer A→B of 5 (infinite)", () => bank.TryTransfer("A", "B", 5, Timeout.InfiniteTimeSpan))
            .ShouldBeTrue("Timeout.InfiniteTimeSpan waits as long as it takes; the locks are free, so it succeeds.");
        (a.Balance, b.Balance).ShouldBe((65L, 35L));

        var ex = Run.Throwing<InsufficientFundsException>(
            "TryTransfer A→B of 500",
            () => bank.TryTransfer("A", "B", 500, TimeSpan.FromSeconds(1)),
            "TryTransfer throws InsufficientFundsException like Transfer: false means only 'a lock stayed busy until the timeout'.");
        ex.AccountId.ShouldBe("A");
        (a.Balance, b.Balance).ShouldBe((65L, 35L), "A refused TryTransfer changes nothing.");
        new[] { a.Lock, b.Lock }.ShouldAllBeFree(
            "After TryTransfer refused for insufficient funds",
            "A failed TryTransfer must leave no lock held: release the locks in a finally.");
    }

    [Test]
    public void TryTransfer_rejects_bad_arguments_like_Transfer()
    {
        var a = new Account("A", 100);
        var b = new Account("B", 0);
        var bank = new Bank([a, b]);
        TimeSpan second = TimeSpan.FromSeconds(1);

        foreach (TimeSpan timeout in new[] { TimeSpan.FromMilliseconds(-5), TimeSpan.MaxValue })
        {
            Run.Throwing<ArgumentOutOfRangeException>(
                $"TryTransfer with a timeout of {timeout}",
                () => bank.TryTransfer("A", "B", 10, timeout),
                "A negative timeout (other than Timeout.InfiniteTimeSpan), or one longer than int.MaxValue milliseconds, must throw " +
                "ArgumentOutOfRangeException.")
                .ParamName.ShouldBe("timeout");
        }

        Run.Throwing<ArgumentOutOfRangeException>(
            "TryTransfer of 0", () => bank.TryTransfer("A", "B", 0, second), "Only a positive amount can be transferred.")
            .ParamName.ShouldBe("amount");
        Run.Throwing<ArgumentException>(
            "TryTransfer A→A",
            () => bank.TryTransfer("A", "A", 10, second),
            "A transfer from an account to itself must be rejected with ArgumentException.");
        Run.Throwing<KeyNotFoundException>(
            "TryTransfer A→Z", () => bank.TryTransfer("A", "Z", 10, second), "An unknown account must throw KeyNotFoundException.");

        (a.Balance, b.Balance).ShouldBe((100L, 0L), "A rejected TryTransfer changes nothing.");
        new[] { a.Lock, b.Lock }.ShouldAllBeFree("After the rejected calls", "A rejected call takes no lock.");
    }

    [Test]
    public void TryTransfer_gives_up_after_its_timeout_and_keeps_no_lock()
    {
        // Each account's lock in turn is held by another thread for longer than the timeout. Whichever lock the
        // global order takes first, one of the two rounds lets TryTransfer take its first lock and time out on the
        // second: it must then let go of the first.
        foreach (string held in new[] { "A", "B" })
        {
            var a = new Account("A", 100);
            var b = new Account("B", 0);
            var bank = new Bank([a, b]);
            (Account busy, Account other) = held == "A" ? (a, b) : (b, a);
            TimeSpan timeout = TimeSpan.FromMilliseconds(100);

            using var holder = LockHolder.Hold(busy.Lock);
            var transfer = LearnerThread.Start($"TryTransfer A→B while {held} is busy", () =>
            {
                var clock = Stopwatch.StartNew();
                bool moved = bank.TryTransfer("A", "B", 10, timeout);
                return (moved, clock.Elapsed);
            });

            var (moved, elapsed) = ((bool, TimeSpan))transfer.ShouldFinish(
                $"TryTransfer(A→B, 100 ms) is still waiting while another thread holds {held}'s lock: it must give up after its " +
                "timeout. Take the locks with KataLock.TryEnter(timeout), not Enter().",
                diagnosisIfThrew: $"TryTransfer threw instead of returning false. {IgnoredTryEnter}")!;
            moved.ShouldBeFalse($"TryTransfer returned true although another thread held {held}'s lock all along. {IgnoredTryEnter}");
            elapsed.ShouldBeGreaterThanOrEqualTo(
                timeout * 0.6,
                "TryTransfer gave up long before its timeout: it must wait, up to the timeout, for the lock to become free.");
            elapsed.ShouldBeLessThan(
                timeout * 10,
                $"TryTransfer took {elapsed.TotalMilliseconds:0} ms for a timeout of 100 ms: the timeout bounds the whole call, both " +
                "locks together. Give the second lock only what is left of the timeout.");
            (a.Balance, b.Balance).ShouldBe((100L, 0L), "A TryTransfer that gave up changes nothing.");
            if (other.Lock.IsHeld)
            {
                Assert.Fail(
                    $"TryTransfer returned false but kept account {other.Id}'s lock (it is still held by '{other.Lock.Owner?.Name}'): " +
                    "when the second lock times out, release the first one before returning false (in a finally).");
            }

            holder.Release();
            Run.Quickly("transfer A→B after the TryTransfer that gave up", () => bank.Transfer("A", "B", 10));
            (a.Balance, b.Balance).ShouldBe((90L, 10L));
        }
    }

    [Test]
    public void TryTransfer_waits_for_a_lock_that_is_released_within_its_timeout()
    {
        var a = new Account("A", 100);
        var b = new Account("B", 0);
        var bank = new Bank([a, b]);

        using var holder = LockHolder.Hold(a.Lock);
        var transfer = LearnerThread.Start("TryTransfer A→B (5 min)", () => bank.TryTransfer("A", "B", 25, TimeSpan.FromMinutes(5)));
        transfer.ShouldBlock(
            "TryTransfer returned while A's lock was busy, long before its timeout of 5 minutes: it must wait for the lock, up to " +
            "the timeout (TryEnter(timeout), not TryEnter(TimeSpan.Zero)).");
        holder.Release();
        transfer.ShouldFinish("TryTransfer never returned after A's lock was released.")
            .ShouldBe(true, "The lock became free within the timeout, so TryTransfer moves the money and returns true.");
        (a.Balance, b.Balance).ShouldBe((75L, 25L));
    }

    [Test]
    public void Opposite_TryTransfers_both_succeed()
    {
        var a = new Account("A", 100);
        var b = new Account("B", 100);
        var bank = new Bank([a, b]);

        // Parked right after the first lock, as in Step 1. Each needs the other's lock only for a moment, so with a
        // generous timeout both must succeed. In argument order, each holds one lock and both time out.
        // Generous even when deadlines are shortened: correct code needs the other's lock for a moment only.
        TimeSpan timeout = Deadlines.Scaled(TimeSpan.FromSeconds(2));
        if (timeout < TimeSpan.FromSeconds(1))
        {
            timeout = TimeSpan.FromSeconds(1);
        }

        using var watch = LockWatch.Start();
        var ab = watch.Run("TryTransfer A→B", () => bank.TryTransfer("A", "B", 10, timeout), Park.AfterLock(1));
        var ba = watch.Run("TryTransfer B→A", () => bank.TryTransfer("B", "A", 30, timeout), Park.AfterLock(1));
        watch.ShouldAllFinish([ab, ba], "TryTransfer must take its locks in one global order too.");
        const string IfThrew =
            "If that is a LockOrderViolationException, TryTransfer took its locks against the global order: with plain locks, " +
            "two opposite TryTransfers would each hold one lock until both time out (retried in a loop: a livelock). Otherwise: " +
            IgnoredTryEnter;
        bool abMoved = (bool)ab.ShouldFinish("TryTransfer A→B never returned.", diagnosisIfThrew: IfThrew)!;
        bool baMoved = (bool)ba.ShouldFinish("TryTransfer B→A never returned.", diagnosisIfThrew: IfThrew)!;

        if (!abMoved || !baMoved)
        {
            Assert.Fail(
                $"TryTransfer A→B returned {abMoved} and TryTransfer B→A returned {baMoved}, although each needed the other's lock " +
                $"only for a moment and waited up to {Deadlines.Describe(timeout)}: they took their locks in argument order, so each " +
                "held one lock and waited for the other's until they timed out. Retried in a loop, that is a livelock: both back " +
                "off, retry, and collide again. Take the locks in one global order in TryTransfer too.");
        }

        (a.Balance, b.Balance).ShouldBe((120L, 80L));
    }
}
