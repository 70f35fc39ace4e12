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

        Run.Quickly("a thread holding C", () =>
        {
            c.Enter();
            foreach ((OrderedLock refused, Action attempt) in new (OrderedLock, Action)[]
            {
                (b, () => b.Enter()),
                (b, () => b.TryEnter(TimeSpan.FromSeconds(1))),
                (otherC, () => otherC.Enter()),
            })
            {
                var ex = Expect.Throws<LockOrderViolationException>(
                    attempt,
                    $"While holding 'C' (rank 2), taking '{refused.Name}' (rank {refused.Rank}) breaks the declared order: the hierarchy " +
                    "must refuse it with a LockOrderViolationException (ranks must strictly increase).");
                (ex.Acquiring, ex.Held).ShouldBe(
                    (refused.Name, "C"),
                    "The exception names both locks: new LockOrderViolationException(acquiring, its rank, held, its rank).");
                if (refused.Lock.IsHeld)
                {
                    Assert.Fail($"The refused acquisition left '{refused.Name}' held: {CheckFirst}");
                }
            }

            c.Lock.IsHeldByCurrentThread.ShouldBeTrue("A refused acquisition does not release what the thread already held.");
            c.Exit();
            b.Enter();
            b.Exit();
        });
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

        Run.Quickly("a thread taking and releasing ordered locks", () =>
        {
            r3.Enter();
            r5.Enter();
            r5.Exit();
            var ex = Expect.Throws<LockOrderViolationException>(
                () => r2.Enter(),
                $"After taking r3 and r5 and releasing r5, the thread still holds r3: the hierarchy must refuse r2. {EveryLock}");
            ex.Held.ShouldBe("r3");
            r3.Exit();

            r1.Enter();
            r3.Enter();
            r5.Enter();
            r3.Exit();
            ex = Expect.Throws<LockOrderViolationException>(
                () => r4.Enter(),
                $"After taking r1, r3 and r5 and releasing r3, the thread still holds r5: the hierarchy must refuse r4. Locks may be " +
                $"released in any order, and the hierarchy must still know exactly which ones are held: {EveryLock}");
            ex.Held.ShouldBe("r5", "The exception names the held lock that outranks the one asked for (the highest-ranked one).");
            r5.Exit();
            r1.Exit();

            r1.Enter();
            r1.Exit();
        });
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
