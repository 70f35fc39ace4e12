using System.Diagnostics;
using System.Collections.Concurrent;

namespace ConcurrencyKata.Tests.Locking;

/// <summary>
/// Step 4: a lock hierarchy. <c>OrderedLock</c> refuses any acquisition against the declared order, before waiting,
/// naming both locks, per thread; the bank takes its account locks through it. See exercises/04-deadlock-free-locking/README.md.
/// </summary>
[Step(4)]
[TestFixture]
public sealed class Step4_LockHierarchy : ConcurrencyTest
{
    private const string CheckFirst =
        "check the order before taking the lock (and before waiting for it), and take nothing when you refuse.";

    private const string NoTrace =
        "A failed or refused acquisition must leave no trace: record a lock only once it is really taken (not when TryEnter " +
        "returns false, nor when Enter throws), and forget it when it is released, through OrderedLock.Exit.";

    /// <summary>
    /// Before every test: a brand-new thread, which holds nothing, may take a lock of the lowest possible rank. A held
    /// set shared by all threads fails this as soon as any thread holds (or an earlier test left) an ordered lock, so
    /// that bug is named the same way whatever the tests run before.
    /// </summary>
    [SetUp]
    public void A_thread_that_holds_nothing_may_take_any_lock()
    {
        OrderedLock lowest = Ordered("lowest", long.MinValue);
        LearnerThread.Start("a new thread taking the lowest-ranked lock", () =>
        {
            lowest.Enter();
            lowest.Exit();
        }).ShouldFinish(
            "A new thread taking a free lock of the lowest rank is stuck.",
            diagnosisIfThrew:
            "A new thread, which holds no lock at all, was refused a free lock of the lowest rank: it was judged by locks " +
            "that other threads hold (or held), but the hierarchy is per thread. Keep each thread's held locks in a " +
            "[ThreadStatic] field or a ThreadLocal<T>.");
    }

    [Test]
    public void Locks_taken_in_increasing_rank_are_granted_and_may_be_released_in_any_order()
    {
        var kataLock = new KataLock("r1");
        OrderedLock r1 = new(kataLock, 1);
        OrderedLock r2 = Ordered("r2", 2);
        OrderedLock r3 = Ordered("r3", 3);
        (r1.Lock, r1.Rank, r1.Name).ShouldBe((kataLock, 1L, "r1"), "An OrderedLock wraps the KataLock it was given, with its rank and its name.");
        Expect.Throws<ArgumentNullException>(() => new OrderedLock(null!, 1), "new OrderedLock(null, rank) must throw ArgumentNullException.");

        Run.Quickly("a thread taking r1, r2, r3", () =>
        {
            // Twice: the second round catches a held set that the first round left wrong.
            for (int round = 1; round <= 2; round++)
            {
                r1.Enter();
                r2.Enter();
                r3.TryEnter(TimeSpan.Zero).ShouldBeTrue("r3 is free and ranks above everything held: TryEnter takes it.");
                new[] { r1, r2, r3 }.ShouldAllBe(l => l.Lock.IsHeldByCurrentThread, "Enter takes the KataLock it wraps.");

                // Releasing out of order is allowed: the order only matters when taking a lock.
                r2.Exit();
                r1.Exit();
                r3.Exit();
                new[] { r1, r2, r3 }.ShouldAllBe(l => !l.Lock.IsHeld, "Exit releases the KataLock it wraps.");
            }
        });
    }

    [Test]
    public void A_lock_of_lower_or_equal_rank_is_refused_naming_both_locks()
    {
        OrderedLock b = Ordered("B", 1);
        OrderedLock c = Ordered("C", 2);
        OrderedLock otherC = Ordered("C'", 2);

        // The attempts run on a thread of their own; their outcomes are judged here, on the test's thread.
        var outcomes = Run.Quickly("a thread holding C", () =>
        {
            c.Enter();
            var seen = new List<(OrderedLock Refused, string How, Exception? Thrown, bool Taken)>();
            foreach ((OrderedLock refused, string how, Action attempt) in new (OrderedLock, string, Action)[]
            {
                (b, "Enter()", () => b.Enter()),
                (b, "TryEnter(1 s)", () => b.TryEnter(TimeSpan.FromSeconds(1))),
                (otherC, "Enter()", () => otherC.Enter()),
            })
            {
                seen.Add((refused, how, Attempt(attempt), refused.Lock.IsHeldByCurrentThread));
                if (refused.Lock.IsHeldByCurrentThread)
                {
                    refused.Lock.Exit();
                }
            }

            bool stillHoldsC = c.Lock.IsHeldByCurrentThread;
            Exception? exit = Attempt(c.Exit);
            Exception? afterwards = Attempt(() =>
            {
                b.Enter();
                b.Exit();
            });
            return (Seen: seen, StillHoldsC: stillHoldsC, Exit: exit, Afterwards: afterwards);
        });

        foreach ((OrderedLock refused, string how, Exception? thrown, bool taken) in outcomes.Seen)
        {
            string rule =
                $"While holding 'C' (rank 2), taking '{refused.Name}' (rank {refused.Rank}) with {how} breaks the declared order: the " +
                "hierarchy must refuse that acquisition with a LockOrderViolationException (ranks must strictly increase).";
            if (thrown is not LockOrderViolationException ex)
            {
                Assert.Fail(thrown is null
                    ? $"Threw nothing. {rule}"
                    : $"Threw {thrown.GetType().Name} (\"{thrown.Message}\") instead of LockOrderViolationException. {rule}");
                return;
            }

            if ((ex.Acquiring, ex.AcquiringRank, ex.Held, ex.HeldRank) != (refused.Name, refused.Rank, "C", 2L))
            {
                Assert.Fail(
                    $"The exception says acquiring '{ex.Acquiring}' (rank {ex.AcquiringRank}) while holding '{ex.Held}' (rank {ex.HeldRank}), " +
                    $"but the thread asked for '{refused.Name}' (rank {refused.Rank}) while holding 'C' (rank 2). Name both locks and " +
                    "their ranks: new LockOrderViolationException(Name, Rank, held.Name, held.Rank).");
            }

            if (taken)
            {
                Assert.Fail($"The refused acquisition {how} left '{refused.Name}' held: {CheckFirst}");
            }
        }

        outcomes.StillHoldsC.ShouldBeTrue("A refused acquisition does not release what the thread already held.");
        outcomes.Exit.ShouldBeNull("Releasing 'C' after the refusals must work.");
        if (outcomes.Afterwards is { } refusedLater)
        {
            Assert.Fail(
                $"After releasing 'C', taking 'B' threw {refusedLater.GetType().Name} (\"{refusedLater.Message}\"): the refused " +
                $"acquisitions left a trace. {NoTrace}");
        }
    }

    [Test]
    public void A_TryEnter_that_fails_takes_nothing_and_leaves_no_trace()
    {
        OrderedLock low = Ordered("low", 1);
        OrderedLock busy = Ordered("busy", 5);

        // Another thread holds 'busy'. This thread's TryEnters on it fail; then it asks for 'low', of a lower rank. It holds
        // nothing, so 'low' must be granted: the hierarchy judges it as if the failed attempts had never happened.
        var holder = LockHolder.Hold(busy.Lock);
        var tried = Run.Quickly("a thread trying 'busy' (rank 5), then taking 'low' (rank 1)", () =>
        {
            bool now = busy.TryEnter(TimeSpan.Zero);
            bool later = busy.TryEnter(TimeSpan.FromMilliseconds(20));
            bool holdsBusy = busy.Lock.IsHeldByCurrentThread;
            Exception? invalid = Attempt(() => busy.TryEnter(TimeSpan.FromMilliseconds(-5)));
            Exception? lowAfter = Attempt(() =>
            {
                low.Enter();
                low.Exit();
            });
            return (Now: now, Later: later, HoldsBusy: holdsBusy, Invalid: invalid, LowAfter: lowAfter);
        });
        holder.Release();

        if (tried.Now || tried.Later || tried.HoldsBusy)
        {
            Assert.Fail(
                "TryEnter on 'busy', which another thread held all along, " +
                (tried.HoldsBusy ? "left this thread holding it" : "returned true") +
                ": it must return false (after TimeSpan.Zero at once, after 20 ms at the latest), holding nothing more than before.");
        }

        if (tried.Invalid is not ArgumentOutOfRangeException)
        {
            Assert.Fail($"TryEnter(-5 ms) {Outcome(tried.Invalid)}: a negative timeout other than Timeout.InfiniteTimeSpan must throw ArgumentOutOfRangeException.");
        }

        if (tried.LowAfter is { } refused)
        {
            Assert.Fail(
                $"After TryEnter on 'busy' (rank 5) returned false, taking 'low' (rank 1) threw {refused.GetType().Name} (\"{refused.Message}\"): " +
                $"the hierarchy still counts 'busy', which this thread never got. {NoTrace}");
        }

        // TryEnter(Timeout.InfiniteTimeSpan) waits as long as it takes.
        using (var again = LockHolder.Hold(busy.Lock))
        {
            var waiting = LearnerThread.Start("a thread calling TryEnter(Timeout.InfiniteTimeSpan) on 'busy'", () =>
            {
                bool got = busy.TryEnter(Timeout.InfiniteTimeSpan);
                Release(busy);
                return got;
            });
            waiting.ShouldBlock("TryEnter(Timeout.InfiniteTimeSpan) returned while another thread held the lock: it waits as long as it takes.");
            again.Release();
            waiting.ShouldFinish("TryEnter(Timeout.InfiniteTimeSpan) never returned after the lock came free.")
                .ShouldBe(true, "Once the lock came free, TryEnter(Timeout.InfiniteTimeSpan) took it.");
        }

        // A TryEnter that succeeds counts like an Enter.
        var counted = Run.Quickly("a thread taking 'busy' with TryEnter(Timeout.InfiniteTimeSpan), then asking for 'low'", () =>
        {
            bool got = busy.TryEnter(Timeout.InfiniteTimeSpan);
            Exception? lowWhileHeld = Attempt(low.Enter);
            Release(low);
            Release(busy);
            return (Got: got, LowWhileHeld: lowWhileHeld);
        });
        counted.Got.ShouldBeTrue("TryEnter(Timeout.InfiniteTimeSpan) on a free lock takes it and returns true.");
        if (counted.LowWhileHeld is not LockOrderViolationException)
        {
            Assert.Fail(
                $"While holding 'busy' (rank 5), taken with TryEnter, taking 'low' (rank 1) {Outcome(counted.LowWhileHeld)}: a lock taken " +
                "with TryEnter counts like one taken with Enter. Check against every lock this thread holds, however it took them: " +
                "the hierarchy must refuse that acquisition with a LockOrderViolationException.");
        }
    }

    [Test]
    public void An_Enter_that_throws_takes_nothing_and_leaves_no_trace()
    {
        OrderedLock low = Ordered("low", 1);
        OrderedLock high = Ordered("high", 5);

        // The thread already holds high's KataLock, taken directly (outside the hierarchy): asking the hierarchy for it
        // again throws LockRecursionException, and must neither release it nor record it.
        var again = Run.Quickly("a thread holding high's KataLock directly, asking for 'high' through the hierarchy", () =>
        {
            high.Lock.Enter();
            Exception? enter = Attempt(high.Enter);
            Exception? tryEnter = Attempt(() => high.TryEnter(TimeSpan.Zero));
            bool stillHeld = high.Lock.IsHeldByCurrentThread;
            if (stillHeld)
            {
                high.Lock.Exit();
            }

            Exception? lowAfter = Attempt(() =>
            {
                low.Enter();
                low.Exit();
            });
            return (Enter: enter, TryEnter: tryEnter, StillHeld: stillHeld, LowAfter: lowAfter);
        });
        foreach ((string how, Exception? thrown) in new[] { ("Enter()", again.Enter), ("TryEnter(TimeSpan.Zero)", again.TryEnter) })
        {
            if (thrown is not LockRecursionException)
            {
                Assert.Fail(
                    $"'high'.{how} {Outcome(thrown)}, although this thread already held high's KataLock: it must throw " +
                    "LockRecursionException (the KataLock's own Enter and TryEnter throw it: let it through).");
            }
        }

        again.StillHeld.ShouldBeTrue("An acquisition that throws LockRecursionException must not release the lock the thread already held.");
        if (again.LowAfter is { } refused)
        {
            Assert.Fail(
                $"After Enter on 'high' (rank 5) threw, taking 'low' (rank 1) threw {refused.GetType().Name} (\"{refused.Message}\"): the " +
                $"hierarchy still counts 'high', which this thread never got through it. {NoTrace}");
        }

        // Interrupted while it waits: KataLock.Enter throws ThreadInterruptedException without taking the lock.
        Interrupted.WhileWaitingFor(
            "'high'.Enter()",
            high.Lock,
            [high.Lock, low.Lock],
            high.Enter,
            changed: () => null,
            again: () =>
            {
                low.Enter();
                low.Exit();
            },
            ifKept: NoTrace,
            ifNeverWaited: _ => "Enter must wait for the KataLock it wraps while another thread holds it.",
            ifAgainFails: $"taking 'low' (rank 1) after the failed Enter on 'high' (rank 5) must be granted. {NoTrace}");
    }

    [Test]
    public void Exit_releases_only_a_lock_this_thread_took_through_the_hierarchy()
    {
        OrderedLock x = Ordered("X", 3);
        var exits = Run.Quickly("a thread calling Exit on 'X'", () =>
        {
            Exception? neverTaken = Attempt(x.Exit);
            x.Lock.Enter();
            Exception? takenDirectly = Attempt(x.Exit);
            bool stillHeld = x.Lock.IsHeldByCurrentThread;
            if (stillHeld)
            {
                x.Lock.Exit();
            }

            x.Enter();
            x.Exit();
            Exception? twice = Attempt(x.Exit);
            return (NeverTaken: neverTaken, TakenDirectly: takenDirectly, StillHeld: stillHeld, Twice: twice);
        });
        foreach ((string when, Exception? thrown) in new[]
        {
            ("it never took it", exits.NeverTaken),
            ("it took its KataLock directly, not through the hierarchy", exits.TakenDirectly),
            ("it had already released it", exits.Twice),
        })
        {
            if (thrown is not SynchronizationLockException)
            {
                Assert.Fail(
                    $"Exit on 'X', when {when}, {Outcome(thrown)}: Exit must throw SynchronizationLockException when the calling thread " +
                    "does not hold the lock through the hierarchy.");
            }
        }

        exits.StillHeld.ShouldBeTrue(
            "Exit on a lock the thread did not take through the hierarchy must leave that lock alone: the hierarchy releases only " +
            "what it took.");
    }

    [Test]
    public void The_order_is_checked_before_waiting()
    {
        OrderedLock b = Ordered("B", 1);
        OrderedLock c = Ordered("C", 2);

        // Another thread holds B. A thread holding C that asks for B must be refused at once: if it waited for B,
        // the refusal would come only after the wait, which is exactly the deadlock the hierarchy exists to prevent.
        // The watch sees the moment it starts to wait for B, so a wrong order fails at once, not after a deadline.
        using var watch = LockWatch.Start();
        using var holder = LockHolder.Hold(b.Lock);
        const string Label = "a thread holding C, asking for B";
        var thread = watch.Run(Label, () =>
        {
            c.Enter();
            try
            {
                b.Enter();
            }
            finally
            {
                c.Exit();
            }
        });
        string waitsForB = $"The hierarchy let the thread wait for 'B' (rank 1) while it held 'C' (rank 2): {CheckFirst}";
        watch.ShouldAllFinish(
            [thread],
            waitsForB,
            failFast: () => watch.WaitsOf(Label).Any(w => w.Lock == "B") ? waitsForB : null);
        thread.ShouldThrow<LockOrderViolationException>(
            waitsForB,
            "Taking 'B' (rank 1) while holding 'C' (rank 2) must throw LockOrderViolationException.");
        holder.Release();
    }

    [Test]
    public void Every_lock_the_thread_holds_counts_not_only_the_last_one()
    {
        OrderedLock r1 = Ordered("r1", 1);
        OrderedLock r2 = Ordered("r2", 2);
        OrderedLock r3 = Ordered("r3", 3);
        OrderedLock r4 = Ordered("r4", 4);
        OrderedLock r5 = Ordered("r5", 5);
        const string EveryLock = "check against every lock this thread holds, not only the last one it took.";

        var (first, second) = Run.Quickly("a thread taking and releasing ordered locks", () =>
        {
            r3.Enter();
            r5.Enter();
            r5.Exit();
            Exception? refusedR2 = Attempt(r2.Enter);
            Release(r2);
            r3.Exit();

            r1.Enter();
            r3.Enter();
            r5.Enter();
            r3.Exit();
            Exception? refusedR4 = Attempt(r4.Enter);
            Release(r4);
            r5.Exit();
            r1.Exit();

            r1.Enter();
            r1.Exit();
            return (refusedR2, refusedR4);
        });

        if (first is not LockOrderViolationException afterR5)
        {
            Assert.Fail(
                $"After taking r3 and r5 and releasing r5, the thread still holds r3, yet taking r2 {Outcome(first)}: the hierarchy " +
                $"must refuse r2. {EveryLock}");
            return;
        }

        afterR5.Held.ShouldBe("r3", "The exception names the held lock that outranks the one asked for.");
        if (second is not LockOrderViolationException afterR3)
        {
            Assert.Fail(
                $"After taking r1, r3 and r5 and releasing r3, the thread still holds r5, yet taking r4 {Outcome(second)}: the hierarchy " +
                $"must refuse r4. Locks may be released in any order, and the hierarchy must still know exactly which ones are held: {EveryLock}");
            return;
        }

        afterR3.Held.ShouldBe("r5", "The exception names the held lock that outranks the one asked for (the highest-ranked one).");
    }

    [Test]
    public void Each_thread_has_its_own_held_locks()
    {
        OrderedLock low = Ordered("low", 1);
        OrderedLock high = Ordered("high", 5);
        using var highIsHeld = new ManualResetEventSlim(false);
        using var mayRelease = new ManualResetEventSlim(false);
        var other = LearnerThread.Start("a thread holding high", () =>
        {
            high.Enter();
            try
            {
                highIsHeld.Set();
                mayRelease.Wait(Deadlines.Hang);
            }
            finally
            {
                high.Exit();
            }
        });
        other.ShouldReach(highIsHeld, "The thread taking 'high' never got it, although nobody else held it.");

        var thread = LearnerThread.Start("a thread taking low", () =>
        {
            low.Enter();
            low.Exit();
        });
        thread.ShouldFinish(
            "The thread taking 'low' is stuck, although nobody holds 'low'.",
            diagnosisIfThrew:
            "The thread was refused 'low' because another thread holds 'high': the hierarchy is per thread. What one thread holds " +
            "never restricts another; keep each thread's held locks in a [ThreadStatic] field or a ThreadLocal<T>.");
        mayRelease.Set();
        other.ShouldFinish("The thread holding 'high' could not release it.");
    }

    [Test]
    public void Two_threads_taking_two_locks_in_opposite_orders_get_an_exception_not_a_deadlock()
    {
        OrderedLock x = Ordered("X", 1);
        OrderedLock y = Ordered("Y", 2);

        // Each thread is parked right after its first lock, as in Step 1: without the hierarchy, this deadlocks on
        // every run. With it, the thread asking for X while holding Y is refused and lets Y go.
        using var watch = LockWatch.Start();
        var forward = watch.Run("thread X→Y", () => TakeBoth(x, y), Park.AfterLock(1));
        var backward = watch.Run("thread Y→X", () => TakeBoth(y, x), Park.AfterLock(1));
        watch.ShouldAllFinish(
            [forward, backward],
            "the hierarchy let thread Y→X wait for 'X' (rank 1) while it held 'Y' (rank 2): it must refuse that acquisition with a " +
            "LockOrderViolationException instead of waiting.");

        forward.ShouldFinish("Thread X→Y never finished.");
        var ex = backward.ShouldThrow<LockOrderViolationException>(
            "Thread Y→X never finished.",
            "Thread Y→X took 'Y' (rank 2) and then asked for 'X' (rank 1): the hierarchy must refuse that acquisition.");
        (ex.Acquiring, ex.Held).ShouldBe(("X", "Y"));
        new[] { x.Lock, y.Lock }.ShouldAllBeFree("After both threads finished", "Every lock is released in a finally.");
    }

    [Test]
    public void The_bank_ranks_every_account_in_one_global_order()
    {
        Account[] accounts = [new("C", 100), new("A", 100), new("B", 100)];
        var bank = new Bank(accounts);

        foreach (Account account in accounts)
        {
            OrderedLock ordered = bank.LockOf(account.Id);
            ordered.Lock.ShouldBeSameAs(
                account.Lock,
                $"The bank's ordered lock for account {account.Id} must wrap {account.Id}'s own lock (account.Lock): one lock per " +
                "account, seen through the hierarchy.");
            bank.LockOf(account.Id).ShouldBeSameAs(ordered, "LockOf returns the same OrderedLock every time for the same account.");
        }

        accounts.Select(x => bank.LockOf(x.Id).Rank).Distinct().Count().ShouldBe(3, "Every account needs its own rank: a unique key.");
        Expect.Throws<KeyNotFoundException>(() => bank.LockOf("Z"), "LockOf an unknown account must throw KeyNotFoundException.");
        Expect.Throws<ArgumentNullException>(() => bank.LockOf(null!), "LockOf(null) must throw ArgumentNullException.");

        // Every method, for every pair of accounts, in both directions, takes its locks in the hierarchy's order.
        const string Disagree =
            "The bank broke its own hierarchy: its methods take the account locks in an order that disagrees with the ranks " +
            "of LockOf. Rank the accounts by the same key that orders the locks (e.g. the Id, compared ordinally).";
        foreach (Account from in accounts)
        {
            foreach (Account to in accounts.Where(x => x != from))
            {
                LearnerThread.Start($"transfer {from.Id}→{to.Id}", () =>
                {
                    bank.Transfer(from.Id, to.Id, 1);
                    bank.TryTransfer(from.Id, to.Id, 1, TimeSpan.FromSeconds(10)).ShouldBeTrue("The locks were free.");
                }).ShouldFinish(
                    $"A transfer {from.Id}→{to.Id} never returned, although nobody else held a lock.", diagnosisIfThrew: Disagree);
            }
        }

        LearnerThread.Start("TotalBalance", bank.TotalBalance).ShouldFinish("TotalBalance never returned.", diagnosisIfThrew: Disagree)
            .ShouldBe(300L);
    }

    [Test]
    public void The_bank_takes_its_account_locks_through_the_hierarchy()
    {
        Account[] accounts = [new("A", 100), new("B", 100), new("C", 100)];
        var bank = new Bank(accounts);
        OrderedLock[] byRank = [.. accounts.Select(x => bank.LockOf(x.Id)).OrderBy(l => l.Rank)];
        (OrderedLock low, OrderedLock middle, OrderedLock top) = (byRank[0], byRank[1], byRank[2]);

        // This thread holds the highest-ranked account lock. Whatever the bank does next with the two others needs a
        // lock of a lower rank: through the hierarchy, it is refused.
        foreach ((string what, Action call) in new (string, Action)[]
        {
            ($"Transfer {low.Name}→{middle.Name}", () => bank.Transfer(low.Name, middle.Name, 1)),
            ($"TryTransfer {middle.Name}→{low.Name}", () => bank.TryTransfer(middle.Name, low.Name, 1, TimeSpan.FromSeconds(1))),
            ($"BalanceOf({low.Name})", () => bank.BalanceOf(low.Name)),
            ("TotalBalance()", () => bank.TotalBalance()),
        })
        {
            var thread = LearnerThread.Start($"{what} while holding {top.Name}", () =>
            {
                top.Enter();
                try
                {
                    call();
                }
                finally
                {
                    top.Exit();
                }
            });
            thread.ShouldThrow<LockOrderViolationException>(
                $"{what} never returned, although only this thread held a lock.",
                $"{what} ran while this thread held '{top.Name}' (rank {top.Rank}), the highest rank, so it took a lower-ranked " +
                "account lock without asking the hierarchy. The bank must take its account locks through the hierarchy: " +
                "LockOf(id).Enter(), not account.Lock.Enter().");
        }

        accounts.Select(x => x.Balance).ShouldAllBe(balance => balance == 100, "A refused transfer changes nothing.");
        accounts.Select(x => x.Lock).ShouldAllBeFree("After the refused calls", "A refused call takes no lock.");
    }

    [Test]
    public void The_bank_releases_every_lock_through_the_hierarchy_on_every_path()
    {
        Account[] accounts = [new("A", 100), new("B", 100), new("C", 100), new("D", 100)];
        var bank = new Bank(accounts);
        OrderedLock lowest = accounts.Select(x => bank.LockOf(x.Id)).MinBy(l => l.Rank)!;

        // A thread calls the bank on every path (success, insufficient funds, a TryTransfer that gives up because the test
        // holds D's lock), and after each call takes the lowest-ranked account lock itself. It holds nothing by then, so
        // that is granted, unless the bank left a record in the hierarchy of a lock the thread no longer holds.
        var traces = new List<(string Call, bool Itself, Exception Thrown)>();
        traces.AddRange(Run.Quickly("one thread calling every method of the bank", () => CallsLeavingNoTrace(lowest, new (string, Action)[]
        {
            ("Transfer(A→B, 10)", () => bank.Transfer("A", "B", 10)),
            ("Transfer(C→A, 10)", () => bank.Transfer("C", "A", 10)),
            ("TryTransfer(B→C, 10, 1 s)", () => bank.TryTransfer("B", "C", 10, TimeSpan.FromSeconds(1))),
            ("BalanceOf(B)", () => bank.BalanceOf("B")),
            ("TotalBalance()", () => bank.TotalBalance()),
            ("Transfer(A→B, 1000), refused for insufficient funds", () => Attempt(() => bank.Transfer("A", "B", 1_000))),
            ("TryTransfer(A→C, 1000, 1 s), refused for insufficient funds", () => Attempt(() => bank.TryTransfer("A", "C", 1_000, TimeSpan.FromSeconds(1)))),
        })));
        using (var holder = LockHolder.Hold(accounts[3].Lock))
        {
            traces.AddRange(Run.Quickly("one thread whose TryTransfers give up", () => CallsLeavingNoTrace(lowest, new (string, Action)[]
            {
                ("TryTransfer(A→D, 10, 20 ms), which gives up (D is busy)", () => bank.TryTransfer("A", "D", 10, TimeSpan.FromMilliseconds(20))),
                ("TryTransfer(D→A, 10, 20 ms), which gives up (D is busy)", () => bank.TryTransfer("D", "A", 10, TimeSpan.FromMilliseconds(20))),
            })));
            holder.Release();
        }

        foreach ((string call, bool itself, Exception thrown) in traces)
        {
            Assert.Fail(
                (itself ? $"{call} threw {thrown.GetType().Name} (\"{thrown.Message}\") on a thread that had only made earlier calls to the bank"
                        : $"After {call} on this thread, taking '{lowest.Name}' (the lowest rank) on the same thread threw {thrown.GetType().Name}") +
                (itself ? "" : $" (\"{thrown.Message}\")") + ": the bank left a record in the hierarchy of a lock this thread no longer holds. The bank must " +
                $"release every lock through the hierarchy too (LockOf(id).Exit(), never account.Lock.Exit()), on every path. {NoTrace}");
        }

        accounts.Sum(x => x.Balance).ShouldBe(400L, "The refused and abandoned calls moved nothing.");
    }

    [Test]
    public void Concurrent_transfers_under_the_hierarchy_conserve_money_and_never_violate_it()
    {
        string[] ids = ["E", "A", "D", "B", "C"];
        Account[] accounts = [.. ids.Select(id => new Account(id, 500))];
        var bank = new Bank(accounts);
        long expectedTotal = ids.Length * 500L;

        Stress.Repeat(round =>
        {
            var violations = new ConcurrentQueue<string>();
            using var watch = LockWatch.Start();
            var run = LearnerThread.Start($"stress round {round}", () => Concurrently.Run(
                "transferrer",
                Concurrently.Contenders,
                i =>
                {
                    var random = new Random((round * 1_000) + i);
                    for (int k = 0; k < 1_500; k++)
                    {
                        int from = random.Next(ids.Length);
                        int to = (from + 1 + random.Next(ids.Length - 1)) % ids.Length;
                        try
                        {
                            switch (k % 3)
                            {
                                case 0:
                                    bank.Transfer(ids[from], ids[to], random.Next(1, 200));
                                    break;
                                case 1:
                                    bank.TryTransfer(ids[from], ids[to], random.Next(1, 200), TimeSpan.FromMilliseconds(100));
                                    break;
                                default:
                                    if (bank.TotalBalance() != expectedTotal)
                                    {
                                        violations.Enqueue(
                                            "TotalBalance returned a wrong total while transfers ran (a torn snapshot or a lost update).");
                                    }

                                    break;
                            }
                        }
                        catch (InsufficientFundsException)
                        {
                            // Expected now and then.
                        }
                        catch (LockOrderViolationException ex)
                        {
                            violations.Enqueue($"The bank broke its own hierarchy: {ex.Message}");
                            return;
                        }
                    }
                },
                "Some transfers never finished: acquire locks in one global order."));
            watch.ShouldAllFinish([run], "acquire locks in one global order, the order of the ranks.", Deadlines.Stress);
            run.ShouldFinish("The stress round never ended.");

            violations.ShouldBeEmpty($"Round {round}: {violations.FirstOrDefault()}");
            accounts.Sum(x => x.Balance).ShouldBe(expectedTotal, $"Round {round}: money was created or destroyed.");
            accounts.Where(x => x.Balance < 0).Select(x => x.Id).ShouldBeEmpty($"Round {round}: a balance went negative.");
        }, budget: TimeSpan.FromSeconds(1));
    }

    private static OrderedLock Ordered(string name, long rank) => new(new KataLock(name), rank);

    /// <summary>Runs <paramref name="attempt"/> and returns what it threw, or null; a stub's NotImplementedException
    /// goes on as it is.</summary>
    private static Exception? Attempt(Action attempt)
    {
        try
        {
            attempt();
            return null;
        }
        catch (NotImplementedException)
        {
            throw;
        }
#pragma warning disable CA1031 // Whatever it threw is the outcome the test judges.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ex;
        }
    }

    /// <summary>Releases <paramref name="ordered"/> through the hierarchy if a wrong hierarchy let this thread take it.</summary>
    private static void Release(OrderedLock ordered)
    {
        if (ordered.Lock.IsHeldByCurrentThread)
        {
            ordered.Exit();
        }
    }

    /// <summary>Makes each call in turn on the current thread, and after each one takes <paramref name="lowest"/> itself;
    /// returns the first call that left a trace (itself failing, or <paramref name="lowest"/> refused afterwards).</summary>
    private static List<(string Call, bool Itself, Exception Thrown)> CallsLeavingNoTrace(OrderedLock lowest, (string Call, Action Act)[] calls)
    {
        foreach ((string call, Action act) in calls)
        {
            if (Attempt(act) is { } failed)
            {
                return [(call, true, failed)];
            }

            if (Attempt(() =>
                {
                    lowest.Enter();
                    lowest.Exit();
                }) is { } refused)
            {
                return [(call, false, refused)];
            }
        }

        return [];
    }

    private static string Outcome(Exception? thrown) =>
        thrown is null ? "was granted" : $"threw {thrown.GetType().Name} (\"{thrown.Message}\")";

    private static void TakeBoth(OrderedLock first, OrderedLock second)
    {
        first.Enter();
        try
        {
            second.Enter();
            second.Exit();
        }
        finally
        {
            first.Exit();
        }
    }
}
