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
        var bank = new Bank([a, b]).Explained();

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
        var bank = new Bank([a, b]).Explained();
        TimeSpan second = TimeSpan.FromSeconds(1);

        foreach (TimeSpan timeout in new[]
        {
            TimeSpan.FromMilliseconds(-5), TimeSpan.FromTicks(-1), TimeSpan.FromTicks(-5_000), TimeSpan.FromTicks(-15_000),
            Timeout.InfiniteTimeSpan - TimeSpan.FromTicks(1), TimeSpan.MinValue,
            TimeSpan.FromMilliseconds(int.MaxValue) + TimeSpan.FromMilliseconds(1), TimeSpan.MaxValue,
        })
        {
            Run.Throwing<ArgumentOutOfRangeException>(
                $"TryTransfer with a timeout of {Show(timeout)}",
                () => bank.TryTransfer("A", "B", 10, timeout),
                $"A timeout of {Show(timeout)} must throw ArgumentOutOfRangeException: a timeout is valid only from TimeSpan.Zero to " +
                "int.MaxValue milliseconds, or exactly Timeout.InfiniteTimeSpan (-1 ms). Check the TimeSpan itself: rounded to " +
                "whole milliseconds first, -1.5 ms would become -1 (Timeout.Infinite: wait forever) and -0.5 ms would become 0.")
                .ParamName.ShouldBe("timeout", "Name the bad parameter: nameof(timeout).");
        }

        foreach ((string? from, string? to) in new[] { ((string?)null, (string?)"B"), ("A", null) })
        {
            Run.Throwing<ArgumentNullException>(
                $"TryTransfer {from ?? "null"}→{to ?? "null"}",
                () => bank.TryTransfer(from!, to!, 10, second),
                "A null account Id (from or to) must throw ArgumentNullException.")
                .ParamName.ShouldBe(from is null ? "from" : "to", "Name the bad parameter.");
        }

        foreach (long amount in new[] { 0L, -5L })
        {
            Run.Throwing<ArgumentOutOfRangeException>(
                $"TryTransfer of {amount}", () => bank.TryTransfer("A", "B", amount, second), "Only a positive amount can be transferred.")
                .ParamName.ShouldBe("amount");
        }

        Run.Throwing<ArgumentException>(
            "TryTransfer A→A",
            () => bank.TryTransfer("A", "A", 10, second),
            "A transfer from an account to itself must be rejected with ArgumentException.");
        foreach ((string from, string to) in new[] { ("A", "Z"), ("Z", "B") })
        {
            Run.Throwing<KeyNotFoundException>(
                $"TryTransfer {from}→{to}", () => bank.TryTransfer(from, to, 10, second), "An unknown account must throw KeyNotFoundException.");
        }

        (a.Balance, b.Balance).ShouldBe((100L, 0L), "A rejected TryTransfer changes nothing.");
        new[] { a.Lock, b.Lock }.ShouldAllBeFree("After the rejected calls", "A rejected call takes no lock.");

        // The edges of the valid range: with both locks free, each one moves the money.
        foreach (TimeSpan timeout in new[]
        {
            TimeSpan.Zero, TimeSpan.FromTicks(3), TimeSpan.FromTicks(15_000), TimeSpan.FromMilliseconds(int.MaxValue), Timeout.InfiniteTimeSpan,
        })
        {
            bool moved = Run.Quickly(
                $"TryTransfer A→B of 1 with a timeout of {Show(timeout)}",
                () => bank.TryTransfer("A", "B", 1, timeout),
                ifThrew: $"A timeout of {Show(timeout)} is valid: anything from TimeSpan.Zero to int.MaxValue milliseconds (a few ticks " +
                         "included), and Timeout.InfiniteTimeSpan.");
            if (!moved)
            {
                Assert.Fail($"TryTransfer A→B with a timeout of {Show(timeout)} returned false although both locks were free.");
            }
        }

        // The same thread, after a rejected call: the bank stays usable, and the thread holds nothing.
        long left = Run.Quickly(
            "a TryTransfer with a timeout of -5 ms, then TryTransfer A→B of 10 and BalanceOf(A) on the same thread",
            () =>
            {
                try
                {
                    bank.TryTransfer("A", "B", 10, TimeSpan.FromMilliseconds(-5));
                }
                catch (ArgumentOutOfRangeException)
                {
                    // Expected (checked above); the point is what comes next on this thread.
                }

                bank.TryTransfer("A", "B", 10, second);
                return bank.BalanceOf("A");
            },
            ifThrew: "A rejected TryTransfer must leave no trace: afterwards the same thread can transfer as usual.");
        left.ShouldBe(85L, "Five transfers of 1, then one of 10, left A.");
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
            var bank = new Bank([a, b]).Explained();
            (Account busy, Account other) = held == "A" ? (a, b) : (b, a);
            TimeSpan timeout = TimeSpan.FromMilliseconds(100);

            using var holder = LockHolder.Hold(busy.Lock);
            using var gaveUp = new ManualResetEventSlim(false);
            using var goOn = new ManualResetEventSlim(false);
            (bool Moved, TimeSpan Elapsed) result = default;
            var transfer = LearnerThread.Start($"TryTransfer A→B while {held} is busy", () =>
            {
                var clock = Stopwatch.StartNew();
                bool moved = bank.TryTransfer("A", "B", 10, timeout);
                result = (moved, clock.Elapsed);
                gaveUp.Set();
                goOn.Wait(Deadlines.Hang);

                // The same thread again, once the lock is free: a TryTransfer that gave up must leave no trace.
                bank.Transfer("A", "B", 10);
            });

            transfer.ShouldReach(
                gaveUp,
                $"TryTransfer(A→B, 100 ms) is still waiting while another thread holds {held}'s lock: it must give up after its " +
                "timeout. Take the locks with KataLock.TryEnter(timeout), not Enter(), and give the second lock only what is left " +
                "of the timeout.",
                ifThrew: $"TryTransfer threw instead of returning false. {IgnoredTryEnter}");
            (bool moved, TimeSpan elapsed) = result;
            if (moved)
            {
                Assert.Fail($"TryTransfer returned true although another thread held {held}'s lock all along. {IgnoredTryEnter}");
            }

            if (elapsed < timeout * 0.6)
            {
                Assert.Fail(
                    $"TryTransfer gave up after {elapsed.TotalMilliseconds:0.#} ms, long before its timeout of 100 ms: it must wait, up " +
                    "to the timeout, for the lock to become free (KataLock.TryEnter(timeout), not TryEnter(TimeSpan.Zero)).");
            }

            if (elapsed >= timeout * 10)
            {
                Assert.Fail(
                    $"TryTransfer took {elapsed.TotalMilliseconds:0} ms for a timeout of 100 ms: the timeout bounds the whole call, both " +
                    "locks together. Give the second lock only what is left of the timeout.");
            }

            (a.Balance, b.Balance).ShouldBe((100L, 0L), "A TryTransfer that gave up changes nothing.");
            if (other.Lock.IsHeld)
            {
                Assert.Fail(
                    $"TryTransfer returned false but kept account {other.Id}'s lock (it is still held by '{other.Lock.Owner?.Name}'): " +
                    "when the second lock times out, release the first one before returning false (in a finally).");
            }

            holder.Release();
            goOn.Set();
            transfer.ShouldFinish(
                "After a TryTransfer that gave up, the same thread's transfer A→B is stuck, although no lock is held any more.",
                diagnosisIfThrew: "After a TryTransfer that gave up, the same thread could not transfer: a TryTransfer that gives up " +
                                  "must leave no trace (no lock held, and from Step 4 no record in the lock hierarchy).");
            (a.Balance, b.Balance).ShouldBe((90L, 10L));
        }
    }

    [Test]
    public void TryTransfer_waits_for_a_lock_that_is_released_within_its_timeout()
    {
        var a = new Account("A", 100);
        var b = new Account("B", 0);
        var bank = new Bank([a, b]).Explained();

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
        var bank = new Bank([a, b]).Explained();

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

        foreach ((string label, bool moved) in new[] { ("TryTransfer A→B", abMoved), ("TryTransfer B→A", baMoved) })
        {
            // A TryTransfer that gave up without holding anything, having asked to wait only a moment, did not wait.
            foreach ((string lockName, TimeSpan asked, string[] held) in watch.GiveUpsOf(label))
            {
                if (!moved && held.Length == 0 && asked != Timeout.InfiniteTimeSpan && asked < timeout / 2)
                {
                    Assert.Fail(
                        $"{label} returned false: it gave up on '{lockName}' after asking TryEnter to wait only {Show(asked)}, long before " +
                        $"its timeout of {Deadlines.Describe(timeout)}, although the other transfer needed that lock only for a moment. " +
                        "TryEnter(timeout) waits up to the timeout for a busy lock: pass it the timeout (what is left of it), not " +
                        "TimeSpan.Zero.");
                }
            }
        }

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

    [Test]
    public void TryTransfer_gives_the_second_lock_only_what_is_left_of_its_timeout()
    {
        var a = new Account("A", 100);
        var b = new Account("B", 0);
        var bank = new Bank([a, b]).Explained();
        TimeSpan timeout = TimeSpan.FromSeconds(1);

        // Both locks are busy. The first one TryTransfer reaches for stays busy for a good part of its timeout, then comes
        // free; the second one comes free as soon as TryTransfer reaches for it. The test reads the timeout TryTransfer
        // gave each TryEnter: none may run past the call's own deadline. Only lateness beyond the slack counts, so a busy
        // machine cannot fail correct code; a pause that came out too short could only miss a bug (docs/testing.md, rule 2).
        using var holdA = LockHolder.Hold(a.Lock);
        using var holdB = LockHolder.Hold(b.Lock);
        using var log = LockLog.Start();
        var transfer = LearnerThread.Start("TryTransfer A→B (1 s)", () =>
        {
            log.Begin();
            return bank.TryTransfer("A", "B", 10, timeout);
        });
        const string Waits = "TryTransfer should wait for the busy lock, up to its timeout.";
        LockEvent? first = log.WaitFor(e => e.What == "reaches for", transfer, Waits);
        if (first is { } firstWait)
        {
            Settle.OneSided(TimeSpan.FromMilliseconds(400));
            (firstWait.Lock == a.Lock ? holdA : holdB).Release();
            log.WaitFor(e => e.What == "reaches for" && e.Lock != firstWait.Lock, transfer, Waits);
        }

        holdA.Dispose();
        holdB.Dispose();
        bool moved = (bool)transfer.ShouldFinish(
            "TryTransfer(A→B, 1 s) never returned although both locks came free within its timeout.",
            diagnosisIfThrew: IgnoredTryEnter)!;

        ShouldEndByTheDeadline(log, "TryTransfer(A→B, 1 s)", timeout);
        if (!moved)
        {
            Assert.Fail(
                $"TryTransfer(A→B, 1 s) returned false although its first lock came free after 0.4 s and its second one as soon as it " +
                $"asked: {GaveUpEarly(log, timeout)}");
        }

        (a.Balance, b.Balance).ShouldBe((90L, 10L));
    }

    [Test]
    public void TryTransfer_with_an_infinite_timeout_waits_for_each_lock_as_long_as_it_takes()
    {
        foreach (string held in new[] { "A", "B" })
        {
            var a = new Account("A", 100);
            var b = new Account("B", 0);
            var bank = new Bank([a, b]).Explained();
            using var holder = LockHolder.Hold(held == "A" ? a.Lock : b.Lock);
            var transfer = LearnerThread.Start(
                $"TryTransfer A→B (Timeout.InfiniteTimeSpan) while {held} is busy",
                () => bank.TryTransfer("A", "B", 10, Timeout.InfiniteTimeSpan));
            transfer.ShouldBlock(
                $"TryTransfer(A→B, Timeout.InfiniteTimeSpan) gave up while {held}'s lock was busy: an infinite timeout waits as long as " +
                "it takes, for the second lock too. Timeout.InfiniteTimeSpan is -1 ms: minus the time already spent it is not what is " +
                "left of the timeout (it is negative, or zero once clamped). Pass Timeout.InfiniteTimeSpan on to every TryEnter.");
            holder.Release();
            transfer.ShouldFinish($"TryTransfer never returned after {held}'s lock was released.")
                .ShouldBe(true, "The lock came free, and TryTransfer waits as long as it takes: it moves the money and returns true.");
            (a.Balance, b.Balance).ShouldBe((90L, 10L));
        }
    }

    [Test]
    public void TryTransfer_whose_time_is_up_gives_up_at_once_and_never_waits_forever()
    {
        // The second lock is busy. Right after taking its first lock, TryTransfer is kept busy until its timeout has run
        // out (as a descheduled thread would be). What is left for the second lock is then nothing: not a negative wait
        // (KataLock throws), and above all not -1 ms, which is Timeout.InfiniteTimeSpan: wait forever. Tiny timeouts
        // included: a few ticks, or 1.5 ms, are still timeouts.
        const string BelowZero =
            "what is left of the timeout went below zero. Clamp it at TimeSpan.Zero (never below), and keep it a TimeSpan: in whole " +
            "milliseconds it lands on -1, which is Timeout.Infinite (wait forever), and anything lower throws.";
        foreach (TimeSpan timeout in new[] { TimeSpan.Zero, TimeSpan.FromTicks(3), TimeSpan.FromTicks(15_000), TimeSpan.FromMilliseconds(20) })
        {
            foreach (string held in new[] { "A", "B" })
            {
                var a = new Account("A", 100);
                var b = new Account("B", 0);
                var bank = new Bank([a, b]).Explained();
                string call = $"TryTransfer(A→B, {Show(timeout)}) while {held} is busy";
                using var holder = LockHolder.Hold(held == "A" ? a.Lock : b.Lock);
                using var log = LockLog.Start();
                log.PauseAfterTaking(1, timeout + TimeSpan.FromMilliseconds(5));
                var transfer = LearnerThread.Start(call, () =>
                {
                    log.Begin();
                    return bank.TryTransfer("A", "B", 10, timeout);
                });

                // A wait without a limit would last until the test gives the lock back: fail at once instead.
                if (log.WaitFor(
                        e => e.What == "reaches for" && e.Timeout == Timeout.InfiniteTimeSpan,
                        transfer,
                        $"{call} should give up as soon as its timeout has run out.") is { } forever)
                {
                    holder.Dispose();
                    Assert.Fail(
                        $"{call} asked to wait for '{forever.Lock.Name}' without a limit (Timeout.InfiniteTimeSpan, -1 ms) although its " +
                        $"own timeout had run out: {BelowZero}");
                }

                bool moved = (bool)transfer.ShouldFinish(
                    $"{call} never returned: once its timeout has run out it must give up.",
                    diagnosisIfThrew: $"If that is an ArgumentOutOfRangeException from KataLock.TryEnter, {BelowZero}")!;
                if (moved)
                {
                    Assert.Fail($"{call} returned true although {held}'s lock was busy all along. {IgnoredTryEnter}");
                }

                ShouldEndByTheDeadline(log, call, timeout);
                (a.Balance, b.Balance).ShouldBe((100L, 0L), "A TryTransfer that gave up changes nothing.");
                KataLock other = held == "A" ? b.Lock : a.Lock;
                if (other.IsHeld)
                {
                    Assert.Fail($"{call} returned false but kept '{other.Name}': release the first lock when the second one times out.");
                }
            }
        }
    }

    [Test]
    public void When_taking_a_lock_fails_TryTransfer_changes_nothing_and_keeps_no_lock()
    {
        // As in Step 1: the test holds a lock, lets TryTransfer wait for it (with a long timeout), and interrupts the
        // waiting thread, which makes TryEnter throw ThreadInterruptedException without taking the lock.
        foreach (string held in new[] { "A", "B" })
        {
            var a = new Account("A", 100);
            var b = new Account("B", 0);
            var bank = new Bank([a, b]).Explained();
            bool movedAgain = false;
            Interrupted.WhileWaitingFor(
                "TryTransfer A→B (1 min)",
                held == "A" ? a.Lock : b.Lock,
                [a.Lock, b.Lock],
                () => bank.TryTransfer("A", "B", 10, TimeSpan.FromMinutes(1)),
                changed: () => (a.Balance, b.Balance) == (100L, 0L) ? null : $"A holds {a.Balance} and B holds {b.Balance}, not 100 and 0.",
                again: () => movedAgain = bank.TryTransfer("A", "B", 10, TimeSpan.FromMinutes(1)),
                ifKept: "A failed TryTransfer must leave no lock held: release the first lock in a finally that also covers a second " +
                        "TryEnter that throws.",
                ifNeverWaited: _ => $"TryTransfer changed the balances without waiting for {held}'s lock, which another thread held. {IgnoredTryEnter}");
            movedAgain.ShouldBeTrue("Once the lock was free, TryTransfer on the same thread moved the money.");
            (a.Balance, b.Balance).ShouldBe((90L, 10L));
        }
    }

    /// <summary>Fails if some TryEnter of the call was given a timeout that runs past the call's own deadline (beyond a
    /// slack that absorbs a busy machine), or no limit at all although the call had one.</summary>
    private static void ShouldEndByTheDeadline(LockLog log, string call, TimeSpan timeout)
    {
        TimeSpan slack = TimeSpan.FromMilliseconds(200);
        foreach (LockEvent wait in log.Waits)
        {
            if (wait.Timeout == Timeout.InfiniteTimeSpan)
            {
                Assert.Fail(
                    $"{call} asked to wait for '{wait.Lock.Name}' without a limit (Timeout.InfiniteTimeSpan), although its own timeout was " +
                    $"{Show(timeout)}: the timeout bounds the whole call. Give each lock what is left of the timeout.");
            }

            TimeSpan end = wait.At + wait.Timeout;
            if (end > timeout + slack)
            {
                Assert.Fail(
                    $"{call} reached for '{wait.Lock.Name}' {wait.At.TotalMilliseconds:0} ms into the call and asked TryEnter to wait up to " +
                    $"{wait.Timeout.TotalMilliseconds:0} ms more, until {end.TotalMilliseconds:0} ms: past its own deadline of " +
                    $"{Show(timeout)}. The timeout bounds the whole call, both locks together: give the second lock only what is left " +
                    "of the timeout (the timeout minus the time already spent), never the whole timeout again.");
            }
        }
    }

    /// <summary>Why a TryTransfer that should have succeeded gave up: on which lock, after asking to wait how long.</summary>
    private static string GaveUpEarly(LockLog log, TimeSpan timeout)
    {
        IReadOnlyList<LockEvent> events = log.Events;
        foreach (LockEvent gaveUp in events.Where(e => e.What == "gives up on"))
        {
            LockEvent asked = events.Last(e => e.What == "reaches for" && e.Lock == gaveUp.Lock && e.At <= gaveUp.At);
            return $"it gave up on '{gaveUp.Lock.Name}' after asking TryEnter to wait only {Show(asked.Timeout)}, long before its timeout " +
                   $"of {Show(timeout)}. TryEnter(timeout) waits up to the timeout for a busy lock: give it what is left of the timeout.";
        }

        return IgnoredTryEnter;
    }

    /// <summary>A timeout in words: "Timeout.InfiniteTimeSpan", "1.5 ms", "3 ticks".</summary>
    private static string Show(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? "Timeout.InfiniteTimeSpan"
        : timeout == TimeSpan.Zero ? "TimeSpan.Zero"
        : timeout == TimeSpan.MaxValue ? "TimeSpan.MaxValue"
        : timeout == TimeSpan.MinValue ? "TimeSpan.MinValue"
        : Math.Abs(timeout.Ticks) < TimeSpan.TicksPerMillisecond / 10 ? $"{timeout.Ticks} ticks"
        : timeout.TotalSeconds >= 1 ? $"{timeout.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} s"
        : $"{timeout.TotalMilliseconds.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)} ms";
}
