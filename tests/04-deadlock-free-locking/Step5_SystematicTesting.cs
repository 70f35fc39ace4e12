namespace ConcurrencyKata.Tests.Locking;

/// <summary>
/// Step 5: the bank and the dining table of Steps 1–4 under Microsoft Coyote's systematic testing engine. Each test
/// runs a small scenario hundreds of times, each time under a different interleaving that Coyote chooses at every lock
/// (and, where the test says so, at every read and write of a field), from a fixed seed. The first interleaving that
/// breaks a rule, or deadlocks, fails the test with a step table of who reached for, took and released which lock, and
/// the seed that replays it. See exercises/04-deadlock-free-locking/README.md, Step 5.
/// </summary>
/// <remarks>
/// No new code is needed: the step re-checks Steps 1–4. Unlike the forced interleavings of Steps 1–4 (<see cref="LockWatch"/>),
/// nobody tells Coyote where the danger is: it finds the bad schedule on its own. The scenarios use tasks (Coyote
/// controls tasks, not raw threads, so <see cref="DiningTable.Dine"/> is not used) and untimed locks only.
/// </remarks>
[Step(5)]
[Category(Systematic.Category)]
[TestFixture]
public sealed class Step5_SystematicTesting : ConcurrencyTest
{
    private const string GlobalOrder =
        "acquire locks in one global order (e.g. by account Id), whatever the order of the arguments: then two threads that " +
        "need the same locks reach for the same lock first, and neither can hold one lock while waiting for the other's.";

    /// <summary>What a <see cref="LockOrderViolationException"/> means in a scenario where every thread takes its locks
    /// in rank order.</summary>
    private const string HierarchyShared =
        "If that is a LockOrderViolationException although each thread takes its locks in rank order, the hierarchy mixes " +
        "threads up: the hierarchy is per thread (keep the held locks in a [ThreadStatic] list).";

    private static readonly Type[] Learner = [typeof(Bank)];

    /// <summary>Loads Coyote's engine before the first test, so that no test's time includes it.</summary>
    [OneTimeSetUp]
    public void LoadTheEngine() => Systematic.WarmUp();

    [Test]
    public void Opposite_transfers_never_deadlock_and_conserve_money_in_any_schedule()
    {
        Systematic.Explore(
            "transfer A→B and transfer B→A at the same time",
            iterations: 200,
            ifStuck: "Each transfer holds the lock the other one waits for: " + GlobalOrder,
            ifThrows: HierarchyShared,
            learnerTypes: Learner,
            scenario: async log =>
            {
                using IDisposable locks = ScheduleLocks.Record(log);
                var a = new Account("A", 100);
                var b = new Account("B", 100);
                var bank = new Bank([a, b]);
                await ScheduleLog.AllFinish(
                    log.Start("transfer A→B", () => log.Call("Transfer(A→B, 10)", "bank", () => bank.Transfer("A", "B", 10))),
                    log.Start("transfer B→A", () => log.Call("Transfer(B→A, 30)", "bank", () => bank.Transfer("B", "A", 30))));

                log.Require(
                    a.Balance == 120 && b.Balance == 80,
                    $"A→B 10 and B→A 30 leave A with 120 and B with 80, but A has {a.Balance} and B {b.Balance}: keep the roles " +
                    "(from, to) apart from the order of the locks (first, second), and change balances only while holding both locks.");
                log.Require(!a.Lock.IsHeld && !b.Lock.IsHeld, "After both transfers, no account lock is held: release every lock in a finally.");
            });
    }

    [Test]
    public void TotalBalance_sees_a_consistent_total_while_transfers_run_in_any_schedule()
    {
        Systematic.Explore(
            "TotalBalance() while transfer C→A and transfer B→C run; the accounts were opened as C, B, A",
            iterations: 200,
            ifStuck: "TotalBalance must take the account locks in the same global order as Transfer: " + GlobalOrder,
            ifThrows: HierarchyShared,
            learnerTypes: Learner,
            scenario: async log =>
            {
                using IDisposable locks = ScheduleLocks.Record(log);

                // Opened out of Id order: code that locks in the order the bank lists its accounts is not in Id order.
                var bank = new Bank([new Account("C", 100), new Account("B", 100), new Account("A", 100)]);
                long total = 0;
                await ScheduleLog.AllFinish(
                    log.Start("transfer C→A", () => log.Call("Transfer(C→A, 40)", "bank", () => bank.Transfer("C", "A", 40))),
                    log.Start("transfer B→C", () => log.Call("Transfer(B→C, 70)", "bank", () => bank.Transfer("B", "C", 70))),
                    log.Start("auditor", () => total = log.Call("TotalBalance()", "bank", bank.TotalBalance)));

                log.Require(
                    total == 300,
                    $"Torn snapshot: TotalBalance returned {total}, but the bank always holds 300 — it added up some balances " +
                    "before a transfer and some after it. Hold every account's lock at once (in the global order) while adding up.");
            });
    }

    [Test]
    public void Concurrent_transfers_never_overdraw_or_lose_money_even_when_Coyote_switches_at_field_accesses()
    {
        Systematic.Explore(
            "two transfers of 60 drain A (100) while an auditor adds up; Coyote may switch threads at every field access",
            iterations: 200,
            ifStuck: "A failed transfer must leave no lock held (release every lock in a finally, also when " +
                "InsufficientFundsException is thrown), and " + GlobalOrder,
            ifThrows: "If that is a failed Debug.Assert or a negative balance, a balance went negative: the balance was checked " +
                "before the locks were taken (check-then-act), or changed without holding both accounts' locks.",
            learnerTypes: Learner,
            raceChecking: true,
            scenario: async log =>
            {
                using IDisposable locks = ScheduleLocks.Record(log);
                var a = new Account("A", 100);
                var b = new Account("B", 0);
                var c = new Account("C", 0);
                var bank = new Bank([a, b, c]);
                int refused = 0;
                long total = 0;
                Action Drain(string to) => () =>
                {
                    try
                    {
                        log.Call($"Transfer(A→{to}, 60)", "bank", () => bank.Transfer("A", to, 60));
                    }
                    catch (InsufficientFundsException)
                    {
                        refused++;
                    }
                };
                await ScheduleLog.AllFinish(
                    log.Start("transfer A→B", Drain("B")),
                    log.Start("transfer A→C", Drain("C")),
                    log.Start("auditor", () => total = log.Call("TotalBalance()", "bank", bank.TotalBalance)));

                log.Require(
                    refused == 1 && a.Balance == 40 && b.Balance + c.Balance == 60,
                    $"A had 100 and two transfers of 60 ran: exactly one must succeed and one must be refused with " +
                    $"InsufficientFundsException, but {refused} were refused and the balances are A {a.Balance}, B {b.Balance}, " +
                    $"C {c.Balance}: a balance went negative or an update was lost. Check the balance and move the money " +
                    "without holding both locks, and another transfer can slip in between: do it all while holding both.");
                log.Require(
                    total == 100,
                    $"TotalBalance returned {total} while the bank held 100 all along: it read the balances without holding " +
                    "every account's lock at once (take them all, in the global order, before adding up).");
            });
    }

    [Test]
    public void Three_philosophers_never_deadlock_and_neighbours_never_eat_together_in_any_schedule()
    {
        Systematic.Explore(
            "three philosophers at a table of three, each eating once",
            iterations: 200,
            ifStuck: "Every philosopher holds one fork and waits for its neighbour's: each picked up its left fork first, and the " +
                "cycle round the table closed. Let every philosopher pick up the lower-numbered fork first (one global order).",
            learnerTypes: Learner,
            scenario: async log =>
            {
                using IDisposable locks = ScheduleLocks.Record(log);
                const int Seats = 3;
                var table = new DiningTable(Seats);
                bool[] eating = new bool[Seats];
                Action Philosopher(int p) => () => log.Call($"Eat({p})", "table", () => table.Eat(p, () =>
                {
                    eating[p] = true;
                    log.Record("eats");

                    // A point where Coyote may let the others run while this philosopher is eating.
                    Microsoft.Coyote.Runtime.SchedulingPoint.Interleave();
                    int left = (p + Seats - 1) % Seats;
                    int right = (p + 1) % Seats;
                    log.Require(
                        !eating[left] && !eating[right],
                        $"Two neighbours ate at the same time (philosopher {p} and one next to it), so they shared a fork. A philosopher eats only " +
                        "while holding both of its forks: fork i and fork (i + 1) % Seats.");
                    eating[p] = false;
                }));

                await ScheduleLog.AllFinish(
                    log.Start("philosopher 0", Philosopher(0)),
                    log.Start("philosopher 1", Philosopher(1)),
                    log.Start("philosopher 2", Philosopher(2)));
            });
    }
}
