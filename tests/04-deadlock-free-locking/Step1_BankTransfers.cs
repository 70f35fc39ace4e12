using System.Collections.Concurrent;

namespace ConcurrencyKata.Tests.Locking;

/// <summary>
/// Step 1: bank transfers between accounts, from many threads at once: money is conserved, no balance goes negative,
/// opposite transfers never deadlock, unrelated transfers run in parallel. See exercises/04-deadlock-free-locking/README.md.
/// </summary>
/// <remarks>
/// The dangerous interleavings are forced through the accounts' <see cref="KataLock"/>s (<see cref="LockWatch"/>):
/// a transfer is parked right after its first lock, or right before it, while another one runs. Wrong code fails
/// on every run, by name; correct code never waits out a deadline.
/// </remarks>
[Step(1)]
[TestFixture]
public sealed class Step1_BankTransfers : ConcurrencyTest
{
    private const string GlobalOrder =
        "acquire locks in one global order (e.g. by account Id), whatever the order of the arguments: then two transfers that " +
        "need the same accounts reach for the same lock first, and neither can hold one lock while waiting for the other's";

    private const string UseKataLocks =
        "Take each account's lock with account.Lock.Enter() and release it with account.Lock.Exit() in a finally (never " +
        "lock (account)): the tests see KataLocks only.";

    private const string AgainstTheHierarchy =
        "If that is a LockOrderViolationException, the lock hierarchy caught what would have been a deadlock: " + GlobalOrder + ".";

    private const string NoLockAfterFailure =
        "A failed transfer must leave no lock held: release every lock you took in a finally, whatever happens between Enter and Exit.";

    [Test]
    public void A_transfer_moves_money_from_one_account_to_another()
    {
        var a = new Account("A", 100);
        var b = new Account("B", 50);
        var bank = new Bank([a, b]).Explained();

        // Twice on the same bank: the second round catches state (a lock, say) that the first one left behind.
        for (int round = 1; round <= 2; round++)
        {
            Run.Quickly($"transfer A→B of 30 (round {round})", () => bank.Transfer("A", "B", 30));
            long expectedA = 100 - (30 * round);
            Run.Quickly("BalanceOf(\"A\")", () => bank.BalanceOf("A"))
                .ShouldBe(expectedA, $"Round {round}: Transfer takes the amount from the paying account.");
            Run.Quickly("BalanceOf(\"B\")", () => bank.BalanceOf("B"))
                .ShouldBe(150 - expectedA, $"Round {round}: Transfer gives the amount to the receiving account.");
            Run.Quickly("TotalBalance()", bank.TotalBalance).ShouldBe(150, "A transfer moves money; it never creates or destroys any.");
        }

        Run.Quickly("transfer B→A of 10", () => bank.Transfer("B", "A", 10));
        if ((a.Balance, b.Balance) != (50L, 100L))
        {
            Assert.Fail(
                $"After transfer B→A of 10, A holds {a.Balance} and B holds {b.Balance}, not 50 and 100: Transfer B→A takes the money " +
                "from B and gives it to A, whichever account's lock comes first in the lock order: keep the roles (from, to) apart " +
                "from the order of the locks (first, second).");
        }

        Run.Quickly("transfer A→B of 50, A's whole balance", () => bank.Transfer("A", "B", 50));
        (a.Balance, b.Balance).ShouldBe((0L, 150L), "A transfer may empty an account: only a balance below zero is forbidden.");
        new[] { a.Lock, b.Lock }.ShouldAllBeFree("After four transfers", NoLockAfterFailure);
    }

    [Test]
    public void Invalid_arguments_are_rejected_before_anything_changes()
    {
        Expect.Throws<ArgumentException>(
            () => new Bank([new Account("A", 1), new Account("B", 2), new Account("A", 3)]),
            "An account's Id is its unique key (it orders the locks, too): a bank with two accounts 'A' must throw ArgumentException.")
            .Message.ShouldContain("'A'", Case.Sensitive, "Say which Id is taken twice: the message must name it, in quotes.");

        var a = new Account("A", 100);
        var b = new Account("B", 50);
        var bank = new Bank([a, b]).Explained();

        foreach (long amount in new[] { 0L, -5L, long.MinValue })
        {
            Run.Throwing<ArgumentOutOfRangeException>(
                $"transfer A→B of {amount}",
                () => bank.Transfer("A", "B", amount),
                $"A transfer of {amount} must throw ArgumentOutOfRangeException: only a positive amount can be transferred " +
                "(a negative one would move money the wrong way and skip the balance check).")
                .ParamName.ShouldBe("amount", "Name the bad parameter: ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amount).");
        }

        var self = Run.Throwing<ArgumentException>(
            "transfer A→A",
            () => bank.Transfer("A", "A", 10),
            "A transfer from an account to itself must be rejected with ArgumentException, before any lock is taken (it would " +
            "take the same lock twice).");
        self.ShouldNotBeOfType<ArgumentOutOfRangeException>("A transfer from an account to itself must be rejected with ArgumentException itself.");
        self.Message.ShouldContain("'A'", Case.Sensitive, "Say which account: the message must name it, in quotes.");

        foreach ((string from, string to, string unknown) in new[] { ("X", "B", "X"), ("A", "Y", "Y") })
        {
            var ex = Run.Throwing<KeyNotFoundException>(
                $"transfer {from}→{to}",
                () => bank.Transfer(from, to, 10),
                $"A transfer involving an unknown account ('{unknown}') must throw KeyNotFoundException.");
            ex.Message.ShouldContain($"'{unknown}'", Case.Sensitive, "Say which account is unknown: the message must name it, in quotes.");
        }

        foreach ((string? from, string? to) in new[] { ((string?)null, (string?)"B"), ("A", null) })
        {
            Run.Throwing<ArgumentNullException>(
                $"transfer {from ?? "null"}→{to ?? "null"}",
                () => bank.Transfer(from!, to!, 10),
                "A null account Id (from or to) must throw ArgumentNullException.")
                .ParamName.ShouldBe(from is null ? "from" : "to", "Name the bad parameter.");
        }

        Run.Throwing<ArgumentNullException>("BalanceOf(null)", () => bank.BalanceOf(null!), "BalanceOf(null) must throw ArgumentNullException.")
            .ParamName.ShouldBe("accountId", "Name the bad parameter.");
        Run.Throwing<KeyNotFoundException>("BalanceOf(\"Z\")", () => bank.BalanceOf("Z"), "BalanceOf an unknown account must throw KeyNotFoundException.")
            .Message.ShouldContain("'Z'", Case.Sensitive, "Say which account is unknown: the message must name it, in quotes.");

        (a.Balance, b.Balance).ShouldBe((100L, 50L), "A rejected transfer changes no balance.");
        new[] { a.Lock, b.Lock }.ShouldAllBeFree("After the rejected transfers", NoLockAfterFailure);

        Expect.Throws<ArgumentNullException>(() => new Bank(null!), "new Bank(null) must throw ArgumentNullException.");
        Expect.Throws<ArgumentNullException>(
            () => new Bank([new Account("C", 1), null!]), "A bank with a null account must throw ArgumentNullException.");

        // The same thread, once more: a rejected call leaves no trace on its thread either, and the bank stays usable.
        long left = Run.Quickly(
            "transfer A→A, then transfer A→B of 10 and BalanceOf(A) on the same thread",
            () =>
            {
                try
                {
                    bank.Transfer("A", "A", 10);
                }
                catch (ArgumentException)
                {
                    // Expected (checked above); the point is what comes next on this thread.
                }

                bank.Transfer("A", "B", 10);
                return bank.BalanceOf("A");
            },
            ifThrew: $"After a rejected transfer, the same thread could not transfer: {NoLockAfterFailure}");
        left.ShouldBe(90L, "The bank stays usable after rejected calls.");
    }

    [Test]
    public void Insufficient_funds_throw_InsufficientFundsException_and_leave_no_lock_held()
    {
        var a = new Account("A", 30);
        var b = new Account("B", 0);
        var bank = new Bank([a, b]).Explained();

        // Twice: a lock left held by the first refusal makes the second call wait forever.
        for (int round = 1; round <= 2; round++)
        {
            var ex = Run.Throwing<InsufficientFundsException>(
                $"transfer A→B of 50 from a balance of 30 (round {round})",
                () => bank.Transfer("A", "B", 50),
                "A transfer larger than the paying account's balance must throw InsufficientFundsException: no balance may go negative.");
            (ex.AccountId, ex.Balance, ex.Amount).ShouldBe(
                ("A", 30L, 50L), "new InsufficientFundsException(accountId, balance, amount): say who could not pay what.");
            (a.Balance, b.Balance).ShouldBe((30L, 0L), "A refused transfer changes no balance.");
            new[] { a.Lock, b.Lock }.ShouldAllBeFree("After the transfer refused for insufficient funds", NoLockAfterFailure);
        }

        // The same thread refused, then transferring: a refusal leaves no trace on its own thread either (no lock kept,
        // and, from Step 4, no record left in the lock hierarchy).
        (bool refused, long left) = Run.Quickly(
            "transfer A→B of 50 (refused), then transfer A→B of 30 and BalanceOf(A) on the same thread",
            () =>
            {
                bool refusedHere = false;
                try
                {
                    bank.Transfer("A", "B", 50);
                }
                catch (InsufficientFundsException)
                {
                    refusedHere = true;
                }

                bank.Transfer("A", "B", 30);
                return (refusedHere, bank.BalanceOf("A"));
            },
            ifThrew: $"After a transfer refused for insufficient funds, the same thread could not transfer: {NoLockAfterFailure}");
        refused.ShouldBeTrue("A transfer larger than the paying account's balance must throw InsufficientFundsException.");
        (left, a.Balance, b.Balance).ShouldBe((0L, 0L, 30L));
    }

    [Test]
    public void Transfer_waits_while_another_thread_holds_either_account_lock()
    {
        foreach (string held in new[] { "A", "B" })
        {
            var a = new Account("A", 100);
            var b = new Account("B", 0);
            var bank = new Bank([a, b]).Explained();
            KataLock heldLock = held == "A" ? a.Lock : b.Lock;

            using var holder = LockHolder.Hold(heldLock);
            var transfer = LearnerThread.Start("transfer A→B", () => bank.Transfer("A", "B", 10));
            transfer.ShouldBlock(
                $"Transfer A→B returned while another thread held account {held}'s lock: it changed {held}'s balance without holding " +
                $"{held}'s lock, racing with whoever holds it (lost updates, overdrafts). {UseKataLocks}");
            (a.Balance, b.Balance).ShouldBe((100L, 0L), $"A transfer waiting for {held}'s lock has not changed anything yet.");

            holder.Release();
            transfer.ShouldFinish($"Transfer A→B never finished after the other thread released {held}'s lock.");
            (a.Balance, b.Balance).ShouldBe((90L, 10L));
        }
    }

    [Test]
    public void Balances_are_read_under_the_account_locks()
    {
        var a = new Account("A", 100);
        var b = new Account("B", 50);
        var bank = new Bank([a, b]).Explained();

        using var holder = LockHolder.Hold(a.Lock);
        var balance = LearnerThread.Start("BalanceOf(A)", () => bank.BalanceOf("A"));
        balance.ShouldBlock(
            "BalanceOf(A) returned while another thread held A's lock: it read the balance in the middle of a change. Read a " +
            "balance only while holding its account's lock.");
        var total = LearnerThread.Start("TotalBalance", bank.TotalBalance);
        total.ShouldBlock(
            "TotalBalance returned while account A's lock was held by another thread: it read A's balance in the middle of a " +
            "change. TotalBalance must hold every account's lock, taken in the global order, while it adds up.");

        holder.Release();
        balance.ShouldFinish("BalanceOf(A) never returned after A's lock was released.").ShouldBe(100L);
        total.ShouldFinish("TotalBalance never returned after A's lock was released.").ShouldBe(150L);
    }

    [Test]
    public void Transfer_takes_both_account_locks_through_KataLock()
    {
        var a = new Account("A", 100);
        var b = new Account("B", 0);
        var bank = new Bank([a, b]).Explained();

        using var watch = LockWatch.Start();
        var transfer = watch.Run("transfer A→B", () => bank.Transfer("A", "B", 10));
        watch.ShouldAllFinish([transfer], GlobalOrder);
        transfer.ShouldFinish("Transfer A→B never returned.");

        ShouldHaveLocked(watch, "transfer A→B", a, b);
    }

    [Test]
    public void Opposite_transfers_never_deadlock()
    {
        var a = new Account("A", 100);
        var b = new Account("B", 100);
        var bank = new Bank([a, b]).Explained();

        // Twice on the same bank. Each transfer is parked right after its first lock until the other has taken its
        // first lock too (or is blocked): in argument order, A→B holds A and B→A holds B, every run.
        for (int round = 1; round <= 2; round++)
        {
            using var watch = LockWatch.Start();
            var ab = watch.Run("transfer A→B", () => bank.Transfer("A", "B", 10), Park.AfterLock(1));
            var ba = watch.Run("transfer B→A", () => bank.Transfer("B", "A", 30), Park.AfterLock(1));
            watch.ShouldAllFinish([ab, ba], GlobalOrder);
            ab.ShouldFinish("Transfer A→B never returned.", diagnosisIfThrew: AgainstTheHierarchy);
            ba.ShouldFinish("Transfer B→A never returned.", diagnosisIfThrew: AgainstTheHierarchy);
            ShouldHaveLocked(watch, "transfer A→B", a, b);
            ShouldHaveLocked(watch, "transfer B→A", a, b);
        }

        (a.Balance, b.Balance).ShouldBe((140L, 60L), "Two rounds of A→B 10 and B→A 30 move 40 from B to A.");
    }

    [Test]
    public void Three_transfers_in_a_circle_never_deadlock()
    {
        var a = new Account("A", 100);
        var b = new Account("B", 100);
        var c = new Account("C", 100);
        var bank = new Bank([a, b, c]).Explained();

        using var watch = LockWatch.Start();
        LearnerThread[] transfers =
        [
            watch.Run("transfer A→B", () => bank.Transfer("A", "B", 10), Park.AfterLock(1)),
            watch.Run("transfer B→C", () => bank.Transfer("B", "C", 20), Park.AfterLock(1)),
            watch.Run("transfer C→A", () => bank.Transfer("C", "A", 30), Park.AfterLock(1)),
        ];
        watch.ShouldAllFinish(transfers, GlobalOrder);
        foreach (LearnerThread transfer in transfers)
        {
            transfer.ShouldFinish($"{transfer.Name} never returned.", diagnosisIfThrew: AgainstTheHierarchy);
        }

        (a.Balance, b.Balance, c.Balance).ShouldBe((120L, 90L, 90L), "Every transfer moved its amount exactly once.");
    }

    [Test]
    public void Transfers_between_disjoint_accounts_run_in_parallel()
    {
        Account[] accounts = [new("A", 100), new("B", 100), new("C", 100), new("D", 100)];
        var bank = new Bank(accounts).Explained();

        // A→B is parked holding its first lock; only then does C→D start. It shares no account with A→B, so nothing
        // it needs is held: with one lock per account it runs straight through.
        using var watch = LockWatch.Start();
        var ab = watch.Run("transfer A→B", () => bank.Transfer("A", "B", 10), Park.AfterLock(1));
        var cd = watch.Run("transfer C→D", () => bank.Transfer("C", "D", 20), after: "transfer A→B");
        watch.ShouldAllFinish([ab, cd], GlobalOrder);

        foreach ((string lockName, string holder) in watch.WaitsOf("transfer C→D"))
        {
            Assert.Fail(
                $"One global lock serialises unrelated transfers: transfer C→D waited for lock '{lockName}' held by {holder}, " +
                "although the two transfers share no account. Guard each account with its own lock (account.Lock), so that " +
                "transfers between different accounts run in parallel.");
        }

        ab.ShouldFinish("Transfer A→B never returned.");
        cd.ShouldFinish("Transfer C→D never returned.");
        accounts.Select(x => x.Balance).ShouldBe([90L, 110L, 80L, 120L]);
    }

    [Test]
    public void The_balance_is_checked_under_the_same_lock_as_the_debit()
    {
        // A holds 100; two transfers of 70 each from A: exactly one can succeed. The first is parked before its first
        // lock (then, in a second round, before its second lock) while the second runs to the end. A balance checked
        // before the lock was taken is stale by then.
        for (int parkedBeforeLock = 1; parkedBeforeLock <= 2; parkedBeforeLock++)
        {
            var a = new Account("A", 100);
            var b = new Account("B", 0);
            var c = new Account("C", 0);
            var bank = new Bank([a, b, c]).Explained();

            using var watch = LockWatch.Start();
            var first = watch.Run("transfer A→B of 70", () => bank.Transfer("A", "B", 70), Park.BeforeLock(parkedBeforeLock));
            var second = watch.Run("transfer A→C of 70", () => bank.Transfer("A", "C", 70), after: "transfer A→B of 70");
            watch.ShouldAllFinish([first, second], GlobalOrder);

            if (a.Balance < 0)
            {
                Assert.Fail(
                    $"Account A's balance went negative ({a.Balance}): transfer A→B of 70 checked A's balance (100) before it held " +
                    "A's lock, then transfer A→C of 70 ran and left 30, and the first transfer's debit overdrew A. Check-then-act: " +
                    "check the balance and debit it under one hold of the account's lock.");
            }

            LearnerThread[] refused = [.. new[] { first, second }.Where(t => t.Exception is InsufficientFundsException)];
            foreach (LearnerThread other in new[] { first, second }.Except(refused))
            {
                other.ShouldFinish($"{other.Name} never returned.");
            }

            refused.Length.ShouldBe(1, "A holds 100: of two transfers of 70, exactly one succeeds and the other throws InsufficientFundsException.");
            (a.Balance, b.Balance + c.Balance).ShouldBe((30L, 70L), "Exactly one transfer of 70 left A.");
        }
    }

    [Test]
    public void TotalBalance_is_a_consistent_snapshot_while_transfers_run()
    {
        Account[] accounts = [new("A", 100), new("B", 100), new("C", 100)];
        var bank = new Bank(accounts).Explained();

        // TotalBalance is parked right after its second lock. Then a transfer moves 10 from the account it locked
        // first to the one it has not locked yet. If it still holds the first lock, the transfer must wait; if it
        // released it, the total mixes "before" and "after".
        using var watch = LockWatch.Start();
        string moved = "";
        var total = watch.Run("TotalBalance", bank.TotalBalance, Park.AfterLock(2));
        var transfer = watch.Run("transfer", () =>
        {
            IReadOnlyList<KataLock> took = watch.AcquiredBy("TotalBalance");
            string[] notYet = [.. accounts.Select(x => x.Id).Where(id => !took.Any(l => l.Name == id))];
            if (took.Count < 2 || notYet.Length == 0)
            {
                return; // TotalBalance does not take the locks: Balances_are_read_under_the_account_locks says so.
            }

            moved = $"{took[0].Name}→{notYet[0]}";
            watch.Relabel($"transfer {moved}");
            bank.Transfer(took[0].Name, notYet[0], 10);
        }, after: "TotalBalance");
        watch.ShouldAllFinish([total, transfer], "TotalBalance must take the account locks in the same global order as Transfer.");
        transfer.ShouldFinish("The transfer never returned.");

        long sum = (long)total.ShouldFinish("TotalBalance never returned.")!;
        sum.ShouldBe(
            300,
            $"Torn snapshot: TotalBalance returned {sum}, but the bank always holds 300. A transfer {moved} of 10 ran while " +
            "TotalBalance was adding up: it read one account before the transfer and the other after it, because it had " +
            "released the first account's lock. Hold every account's lock, taken in the global order, until the sum is done.");
    }

    [Test]
    public void TotalBalance_and_transfers_never_deadlock()
    {
        // Opened in an order that is not the order of their Ids.
        Account[] accounts = [new("C", 100), new("A", 100), new("B", 100)];
        var bank = new Bank(accounts).Explained();

        // TotalBalance is parked right after its first lock, X. Then transfers from X to each other account start: in
        // the global order, any account that comes before X is locked by its transfer before X. If TotalBalance's
        // order differs from Transfer's, one of them now holds what TotalBalance needs next, and waits for X.
        using var watch = LockWatch.Start();
        var total = watch.Run("TotalBalance", bank.TotalBalance, Park.AfterLock(1));
        var transfers = Enumerable.Range(0, 2).Select(i => watch.Run($"transfer {i + 1}", () =>
        {
            IReadOnlyList<KataLock> took = watch.AcquiredBy("TotalBalance");
            if (took.Count == 0)
            {
                return;
            }

            string from = took[0].Name;
            string to = accounts.Select(x => x.Id).Where(id => id != from).ElementAt(i);
            watch.Relabel($"transfer {from}→{to}");
            bank.Transfer(from, to, 1);
        }, after: "TotalBalance")).ToList();

        watch.ShouldAllFinish(
            [total, .. transfers],
            "TotalBalance must take the account locks in the same global order as Transfer (not in the order the accounts " +
            "were opened, nor a dictionary's order).");
        foreach (LearnerThread transfer in transfers)
        {
            transfer.ShouldFinish($"{transfer.Name} never returned.");
        }

        total.ShouldFinish(
            "TotalBalance never returned.",
            diagnosisIfThrew: "TotalBalance must take the account locks in the same global order as Transfer (the hierarchy's order).")
            .ShouldBe(300L, "Transfers never change the total.");
    }

    [Test]
    public void Many_threads_transferring_at_once_conserve_money_and_never_overdraw()
    {
        string[] ids = ["A", "B", "C", "D", "E", "F"];
        Account[] accounts = [.. ids.Select(id => new Account(id, 1_000))];
        var bank = new Bank(accounts).Explained();
        long expectedTotal = ids.Length * 1_000L;

        // Bounded stress (rule 13): every thread makes seeded random transfers in both directions while an auditor
        // checks the total and the balances. The watch only records, so that a deadlock is named at once.
        Stress.Repeat(round =>
        {
            var problems = new ConcurrentQueue<string>();
            using var watch = LockWatch.Start();
            var run = LearnerThread.Start($"stress round {round}", () => Concurrently.Run(
                [
                    ("transferrer", Concurrently.Contenders, i =>
                    {
                        var random = new Random((round * 1_000) + i);
                        for (int k = 0; k < 2_000; k++)
                        {
                            int from = random.Next(ids.Length);
                            int to = (from + 1 + random.Next(ids.Length - 1)) % ids.Length;
                            try
                            {
                                bank.Transfer(ids[from], ids[to], random.Next(1, 300));
                            }
                            catch (InsufficientFundsException)
                            {
                                // Expected now and then: the balance is checked under the locks.
                            }
                        }
                    }),
                    ("auditor", 1, _ =>
                    {
                        for (int k = 0; k < 300 && problems.IsEmpty; k++)
                        {
                            long total = bank.TotalBalance();
                            if (total != expectedTotal)
                            {
                                problems.Enqueue(
                                    $"Torn snapshot or lost update: TotalBalance returned {total} while transfers ran, but the bank always " +
                                    $"holds {expectedTotal}. Either TotalBalance did not hold every account's lock at once while it added up " +
                                    "(take them all, in the global order, before reading any balance), or a transfer changed balances without " +
                                    "holding both accounts' locks, and the auditor saw it half done.");
                            }

                            string id = ids[k % ids.Length];
                            long balance = bank.BalanceOf(id);
                            if (balance < 0)
                            {
                                problems.Enqueue($"Account {id}'s balance went negative ({balance}): check and debit under one hold of its lock.");
                            }
                        }
                    }),
                ],
                $"Some transfers never finished. {GlobalOrder}."));
            watch.ShouldAllFinish([run], GlobalOrder, Deadlines.Stress);
            run.ShouldFinish("The stress round never ended.");

            // Money created or destroyed says more than the auditor's view of it: check it first.
            long sum = accounts.Sum(x => x.Balance);
            if (sum != expectedTotal)
            {
                Assert.Fail(
                    $"Lost update: after round {round} the bank holds {sum}, but transfers never change the total ({expectedTotal}). Two " +
                    "transfers changed the same balance at once, and one change was lost: a balance was changed without holding its " +
                    "account's lock. Every transfer holds both accounts' locks while it checks and changes the balances.");
            }

            if (problems.TryPeek(out string? problem))
            {
                Assert.Fail($"Round {round}: {problem}");
            }

            accounts.Where(x => x.Balance < 0).Select(x => x.Id).ShouldBeEmpty($"Round {round}: a balance went negative.");
            accounts.Select(x => x.Lock).ShouldAllBeFree($"After round {round}", NoLockAfterFailure);
        }, budget: TimeSpan.FromSeconds(1));
    }

    [Test]
    public void When_taking_a_lock_fails_the_call_changes_nothing_and_keeps_no_lock()
    {
        // KataLock.Enter can fail. Here the test holds one account's lock, lets the call wait for it, and interrupts the
        // waiting thread: Enter throws ThreadInterruptedException without taking the lock. Each account's lock in turn is
        // the one that fails, so that whichever order the call takes its locks in, in some round it already holds one.
        foreach (string held in new[] { "A", "B" })
        {
            var a = new Account("A", 100);
            var b = new Account("B", 0);
            var bank = new Bank([a, b]).Explained();
            Interrupted.WhileWaitingFor(
                "transfer A→B",
                held == "A" ? a.Lock : b.Lock,
                [a.Lock, b.Lock],
                () => bank.Transfer("A", "B", 10),
                changed: () => (a.Balance, b.Balance) == (100L, 0L) ? null : $"A holds {a.Balance} and B holds {b.Balance}, not 100 and 0.",
                again: () => bank.Transfer("A", "B", 10),
                ifKept: $"{NoLockAfterFailure} Enter the second lock inside the try whose finally releases the first: a second Enter " +
                        "that throws must not leave the first lock held.",
                ifNeverWaited: took => WhyNotBothLocks("transfer A→B", took, a, b));
            (a.Balance, b.Balance).ShouldBe((90L, 10L), "After the failed transfer, the same transfer on the same thread moves the money once.");
        }

        // TotalBalance holds every lock at once: whichever one fails, it releases all those it took (and only those).
        Account[] accounts = [new("A", 100), new("B", 100), new("C", 100)];
        var audited = new Bank(accounts).Explained();
        KataLock[] locks = [.. accounts.Select(x => x.Lock)];
        foreach (Account busy in accounts)
        {
            long total = 0;
            Interrupted.WhileWaitingFor(
                "TotalBalance",
                busy.Lock,
                locks,
                () => audited.TotalBalance(),
                changed: () => null,
                again: () => total = audited.TotalBalance(),
                ifKept: "TotalBalance must release every lock it took, in a finally, also when taking a later one fails: count the " +
                        "locks you took and release exactly those.",
                ifNeverWaited: _ =>
                    $"TotalBalance returned while account {busy.Id}'s lock was held by another thread: it read {busy.Id}'s balance in " +
                    "the middle of a change. TotalBalance must hold every account's lock, taken in the global order, while it adds up.");
            total.ShouldBe(300L, "TotalBalance on the same thread, after the failed one, adds up every account.");
        }

        // BalanceOf takes one lock: failing to take it leaves nothing behind either.
        long balance = 0;
        Interrupted.WhileWaitingFor(
            "BalanceOf(A)",
            accounts[0].Lock,
            locks,
            () => audited.BalanceOf("A"),
            changed: () => null,
            again: () => balance = audited.BalanceOf("A"),
            ifKept: "BalanceOf must release the account's lock in a finally.",
            ifNeverWaited: _ =>
                "BalanceOf(A) returned while another thread held A's lock: it read the balance in the middle of a change. Read a " +
                "balance only while holding its account's lock.");
        balance.ShouldBe(100L);
    }

    private static void ShouldHaveLocked(LockWatch watch, string label, Account first, Account second)
    {
        IReadOnlyList<KataLock> took = watch.AcquiredBy(label);
        if (!took.Contains(first.Lock) || !took.Contains(second.Lock))
        {
            Assert.Fail(WhyNotBothLocks(label, took, first, second));
        }
    }

    /// <summary>What it means that <paramref name="label"/> changed the balances of two accounts having taken only
    /// <paramref name="took"/>: a lock that belongs to no account is a bank-wide lock; no lock at all is a race.</summary>
    private static string WhyNotBothLocks(string label, IReadOnlyList<KataLock> took, Account first, Account second)
    {
        string names = took.Count == 0 ? "no KataLock" : string.Join(", ", took.Distinct().Select(l => $"'{l.Name}'"));
        KataLock? foreign = took.FirstOrDefault(l => l != first.Lock && l != second.Lock);
        return foreign is not null
            ? $"One global lock serialises unrelated transfers: {label} took {names}, not the accounts' own locks '{first.Id}' and " +
              $"'{second.Id}'. A bank-wide lock makes every transfer wait for every other one, even when they share no account. " +
              "Guard each account with its own lock (account.Lock), taken in one global order."
            : $"{label} took {names}, not both '{first.Id}' and '{second.Id}': it changed balances without holding both accounts' " +
              $"locks. {UseKataLocks}";
    }
}
