using System.Collections.Concurrent;

namespace ConcurrencyKata.Tests.Locking;

/// <summary>
/// Step 2: the dining philosophers. Everybody eats, neighbours never eat at once, nobody deadlocks and nobody starves.
/// See exercises/04-deadlock-free-locking/README.md.
/// </summary>
[Step(2)]
[TestFixture]
public sealed class Step2_DiningPhilosophers : ConcurrencyTest
{
    private const string ForkOrder =
        "every philosopher picked up its left fork first, so each one holds the fork its neighbour waits for, all round " +
        "the table. Let every philosopher pick up the lower-numbered fork first (one global order): the last one then " +
        "reaches for fork 0 first, like philosopher 0, and the cycle cannot close";

    private const string BothForks =
        "A philosopher eats only while holding both of its forks: fork i and fork (i + 1) % Seats.";

    private const string PutForksDown =
        "put both forks down even when the meal throws: Exit each fork in a finally.";

    [Test]
    public void Philosophers_reaching_for_their_forks_at_once_never_deadlock()
    {
        foreach (int seats in new[] { 5, 2 })
        {
            var table = new DiningTable(seats);
            int[] eaten = new int[seats];

            // Each philosopher is parked right after its first fork until every other one has a fork too, or is
            // blocked waiting for one. Left fork first, that is five philosophers with one fork each, every run.
            using var watch = LockWatch.Start();
            LearnerThread[] philosophers =
            [
                .. Enumerable.Range(0, seats).Select(p => watch.Run(
                    $"philosopher {p}",
                    () => table.Eat(p, () => Interlocked.Increment(ref eaten[p])),
                    Park.AfterLock(1))),
            ];
            watch.ShouldAllFinish(philosophers, ForkOrder);
            foreach (LearnerThread philosopher in philosophers)
            {
                philosopher.ShouldFinish($"{philosopher.Name} never finished eating.");
            }

            eaten.ShouldAllBe(meals => meals == 1, $"At a table of {seats}, every philosopher ate its meal exactly once.");
            Enumerable.Range(0, seats).Select(table.Fork).ShouldAllBeFree($"After the meal at a table of {seats}", PutForksDown);
        }
    }

    [Test]
    public void Neighbours_never_eat_at_the_same_time()
    {
        var table = new DiningTable(5);
        using var zeroIsEating = new ManualResetEventSlim(false);
        using var zeroMayFinish = new ManualResetEventSlim(false);
        var zero = LearnerThread.Start("philosopher 0", () => table.Eat(0, () =>
        {
            zeroIsEating.Set();
            zeroMayFinish.Wait(Deadlines.Hang);
        }));
        zero.ShouldReach(zeroIsEating, "Philosopher 0 never started eating, although every fork was on the table.");

        // Philosopher 1 shares fork 1 with philosopher 0, philosopher 4 shares fork 0.
        var neighbours = new List<LearnerThread>();
        foreach ((int neighbour, int shared) in new[] { (1, 1), (4, 0) })
        {
            var thread = LearnerThread.Start($"philosopher {neighbour}", () => table.Eat(neighbour, () => { }));
            neighbours.Add(thread);
            thread.ShouldBlock(
                $"Philosopher {neighbour} ate while its neighbour philosopher 0 was eating: neighbours ate at the same time, " +
                $"although they share fork {shared}. {BothForks}");
        }

        zeroMayFinish.Set();
        zero.ShouldFinish("Philosopher 0 never finished its meal.");
        foreach (LearnerThread neighbour in neighbours)
        {
            neighbour.ShouldFinish($"{neighbour.Name} never ate after philosopher 0 put its forks down.");
        }
    }

    [Test]
    public void A_hungry_philosopher_waits_for_a_busy_fork_and_then_eats()
    {
        // The bound on starving: a hungry philosopher waits for as long as a neighbour uses a fork, and eats as
        // soon as both forks are free. It never gives up and goes away hungry.
        foreach (int busy in new[] { 1, 0 })
        {
            var table = new DiningTable(5);
            bool ate = false;
            using var neighbour = LockHolder.Hold(table.Fork(busy));
            var zero = LearnerThread.Start("philosopher 0", () => table.Eat(0, () => ate = true));
            zero.ShouldBlock(
                $"Philosopher 0 returned while fork {busy} was in use by its neighbour. If it ate, it ate without fork {busy}: " +
                $"neighbours ate at the same time, sharing it. If it did not, it gave up and went away hungry. A hungry philosopher " +
                $"waits until both of its forks are free. {BothForks}");

            neighbour.Release();
            zero.ShouldFinish($"Philosopher 0 never ate after fork {busy} was put down.");
            ate.ShouldBeTrue("Eat returned without running the meal.");
        }
    }

    [Test]
    public void Rejected_calls_and_failed_meals_leave_every_fork_on_the_table()
    {
        var table = new DiningTable(3);
        foreach (int philosopher in new[] { -1, 3 })
        {
            Run.Throwing<ArgumentOutOfRangeException>(
                $"philosopher {philosopher}",
                () => table.Eat(philosopher, () => { }),
                $"A table of 3 has philosophers 0, 1 and 2: Eat({philosopher}, ...) must throw ArgumentOutOfRangeException.")
                .ParamName.ShouldBe("philosopher", "Name the bad parameter: validate the philosopher before picking up any fork.");
        }

        Run.Throwing<ArgumentNullException>(
            "philosopher 0 with no meal", () => table.Eat(0, null!), "Eat(0, null) must throw ArgumentNullException.");
        Run.Throwing<ArgumentOutOfRangeException>("Dine(-1)", () => table.Dine(-1), "Dine(-1) must throw ArgumentOutOfRangeException.")
            .ParamName.ShouldBe("mealsEach");
        Enumerable.Range(0, 3).Select(table.Fork).ShouldAllBeFree("After the rejected calls", "A rejected call takes no fork.");

        var ex = Run.Throwing<InvalidOperationException>(
            "philosopher 1",
            () => table.Eat(1, () => throw new InvalidOperationException("The soup is burnt.")),
            "Eat must let the meal's exception through to its caller.");
        ex.Message.ShouldBe("The soup is burnt.");
        Enumerable.Range(0, 3).Select(table.Fork).ShouldAllBeFree("After a meal that threw", $"A philosopher must {PutForksDown}");

        Run.Quickly("philosopher 1, again", () => table.Eat(1, () => { }));
        Run.Quickly("philosopher 2", () => table.Eat(2, () => { }));
    }

    [Test]
    public void Each_meal_runs_while_the_philosopher_holds_both_of_its_forks()
    {
        var table = new DiningTable(4);
        for (int philosopher = 0; philosopher < table.Seats; philosopher++)
        {
            int p = philosopher;
            int right = (p + 1) % table.Seats;
            (bool Left, bool Right) holds = Run.Quickly(
                $"philosopher {p}",
                () =>
                {
                    (bool, bool) seen = default;
                    table.Eat(p, () => seen = (table.Fork(p).IsHeldByCurrentThread, table.Fork(right).IsHeldByCurrentThread));
                    return seen;
                });
            if (!holds.Left || !holds.Right)
            {
                Assert.Fail(
                    $"Philosopher {p}'s meal ran while it held {(holds.Left ? "" : "not ")}fork {p} and {(holds.Right ? "" : "not ")}fork " +
                    $"{right}: a neighbour could use the other fork at the same time, so neighbours ate at the same time. {BothForks}");
            }
        }

        Enumerable.Range(0, table.Seats).Select(table.Fork).ShouldAllBeFree("After every philosopher ate once", PutForksDown);
    }

    [Test]
    public void Dine_runs_every_philosopher_at_the_same_time()
    {
        var table = new DiningTable(4);
        Run.Quickly("Dine(0)", () => table.Dine(0)).ShouldBe([0, 0, 0, 0], "Dine(0) is a dinner of no meals: it returns a count of 0 for each philosopher.");

        // Philosophers 0 and 2 share no fork at a table of 4. Each one's meal waits until the other one is eating too:
        // philosophers who dine at the same time meet at once; a dinner that runs them one after another never lets the
        // first one finish its meal.
        using var bothEating = new Barrier(2);
        bool met = true;
        var unlike = new ConcurrentQueue<string>();
        var dinner = LearnerThread.Start("dinner for 4", () => table.Dine(1, p =>
        {
            if (!table.Fork(p).IsHeldByCurrentThread || !table.Fork((p + 1) % 4).IsHeldByCurrentThread)
            {
                unlike.Enqueue($"onEat({p}) ran while philosopher {p} did not hold both of its forks: neighbours ate at the same time. {BothForks}");
            }

            if (!Thread.CurrentThread.IsBackground)
            {
                unlike.Enqueue(
                    $"Philosopher {p} dines on a foreground thread: a dinner that never ends would keep the whole process alive. " +
                    "Make every philosopher's thread a background thread (IsBackground = true).");
            }

            // Once one of them has waited in vain, the other one does not wait again.
            if (p is 0 or 2 && Volatile.Read(ref met) && !bothEating.SignalAndWait(Deadlines.Hang))
            {
                Volatile.Write(ref met, false);
            }
        }));
        dinner.ShouldFinish(
            "The dinner never ended.",
            Deadlines.Stress,
            "If that is an exception from a Barrier, Dine called onEat more often than once per meal.");
        if (unlike.TryPeek(out string? problem))
        {
            Assert.Fail(problem);
        }

        if (!met)
        {
            Assert.Fail(
                $"Philosophers 0 and 2 share no fork, yet one of them ate and the other one did not eat while it waited for " +
                $"{Deadlines.Describe(Deadlines.Hang)}: the dinner ran the philosophers one after another. Start every philosopher's " +
                "thread before waiting for any of them (Join only once all have started): every philosopher dines on its own " +
                "thread, all at the same time.");
        }
    }

    [Test]
    public void Dine_reports_what_a_meal_threw_in_an_AggregateException_once_the_dinner_has_ended()
    {
        var table = new DiningTable(3);
        var burnt = new InvalidOperationException("Philosopher 1's soup is burnt.");
        int mealsOfOne = 0;
        var dinner = LearnerThread.Start("dinner for 3, where philosopher 1's second meal throws", () => table.Dine(3, p =>
        {
            if (p == 1 && Interlocked.Increment(ref mealsOfOne) == 2)
            {
                throw burnt;
            }
        }));
        const string Aggregate =
            "Dine must throw an AggregateException whose inner exceptions are what onEat threw: catch each philosopher's exception " +
            "inside its thread (one that escapes a thread ends the whole process), keep it, and throw them all in an " +
            "AggregateException once every philosopher has finished.";
        if (!dinner.TryJoin(Deadlines.Stress))
        {
            Assert.Fail($"Deadlock suspected: the dinner never ended after philosopher 1's meal threw. A philosopher must {PutForksDown}");
        }

        Exception? thrown = dinner.Exception;
        if (thrown is NotImplementedException)
        {
            dinner.RethrowIfFailed();
        }

        if (thrown is not AggregateException aggregate)
        {
            // Taken here, so that this test reports it once, in its own words (the tear-down would report it again).
            string escaped = UnhandledExceptions.TakeAll().Any(e => ReferenceEquals(e.Exception, burnt))
                ? " The exception escaped its philosopher's thread instead: in .NET, that ends the whole process."
                : "";
            Assert.Fail(thrown is null
                ? $"Dine returned normally although philosopher 1's meal threw.{escaped} {Aggregate}"
                : $"Dine threw {thrown.GetType().Name} (\"{thrown.Message}\"), not an AggregateException. {Aggregate}");
            return;
        }

        if (aggregate.InnerExceptions.Count != 1 || !ReferenceEquals(aggregate.InnerExceptions[0], burnt))
        {
            string inner = string.Join(", ", aggregate.InnerExceptions.Select(e => $"{e.GetType().Name} (\"{e.Message}\")"));
            Assert.Fail(
                $"Dine's AggregateException holds {(inner.Length == 0 ? "nothing" : inner)}, but onEat threw one exception, once: " +
                $"{burnt.GetType().Name} (\"{burnt.Message}\"). {Aggregate}");
        }

        Enumerable.Range(0, table.Seats).Select(table.Fork).ShouldAllBeFree(
            "After Dine threw",
            "The dinner ends before Dine throws: Join every philosopher first. And a philosopher must " + PutForksDown);
    }

    [Test]
    public void Every_philosopher_eats_every_meal_and_neighbours_never_overlap()
    {
        foreach ((int seats, int meals) in new[] { (5, 300), (2, 300), (7, 200) })
        {
            var table = new DiningTable(seats);
            int[] eating = new int[seats];
            var overlaps = new ConcurrentQueue<string>();
            var threadsOf = new ConcurrentDictionary<int, ConcurrentDictionary<int, bool>>();

            using var watch = LockWatch.Start();
            var dinner = LearnerThread.Start($"dinner for {seats}", () => table.Dine(meals, p =>
            {
                threadsOf.GetOrAdd(p, _ => new()).TryAdd(Environment.CurrentManagedThreadId, true);
                Volatile.Write(ref eating[p], 1);
                foreach (int neighbour in new[] { (p + 1) % seats, (p + seats - 1) % seats })
                {
                    if (Volatile.Read(ref eating[neighbour]) == 1)
                    {
                        overlaps.Enqueue($"philosophers {p} and {neighbour}");
                    }
                }

                Thread.SpinWait(50);
                Volatile.Write(ref eating[p], 0);
            }));
            watch.ShouldAllFinish([dinner], ForkOrder, Deadlines.Stress);
            int[] eaten = (int[])dinner.ShouldFinish("The dinner never ended.")!;

            overlaps.ShouldBeEmpty(
                $"At a table of {seats}, neighbours ate at the same time ({overlaps.FirstOrDefault()}), although they share a fork. {BothForks}");
            eaten.Length.ShouldBe(seats, "Dine returns one count per philosopher.");
            for (int p = 0; p < seats; p++)
            {
                eaten[p].ShouldBe(
                    meals,
                    $"At a table of {seats}, philosopher {p} ate {eaten[p]} of {meals} meals: nobody may starve; every philosopher eats " +
                    "every meal before the dinner ends, and Dine counts them.");
            }

            var threadIds = threadsOf.Values.SelectMany(ids => ids.Keys).ToHashSet();
            threadsOf.Values.ShouldAllBe(
                ids => ids.Count == 1,
                "Each philosopher eats all of its meals on its own thread: one thread per philosopher.");
            threadIds.Count.ShouldBe(
                seats,
                $"At a table of {seats}, the meals were eaten on {threadIds.Count} thread(s): every philosopher dines on its own " +
                "thread, all at the same time.");
            Enumerable.Range(0, seats).Select(table.Fork).ShouldAllBeFree($"After the dinner for {seats}", PutForksDown);
        }
    }

    [Test]
    public void When_picking_up_a_fork_fails_the_philosopher_puts_down_the_one_it_holds()
    {
        // KataLock.Enter can fail: the test holds fork 0, then fork 1, lets philosopher 0 wait for it, and interrupts the
        // waiting thread (Enter then throws ThreadInterruptedException without taking the fork). In one of the two
        // rounds, the philosopher already holds its other fork at that moment.
        foreach (int busy in new[] { 0, 1 })
        {
            var table = new DiningTable(3);
            bool ate = false;
            Interrupted.WhileWaitingFor(
                "philosopher 0",
                table.Fork(busy),
                [.. Enumerable.Range(0, table.Seats).Select(table.Fork)],
                () => table.Eat(0, () => ate = true),
                changed: () => ate ? "its meal ran without both forks." : null,
                again: () => table.Eat(0, () => ate = true),
                ifKept: $"A philosopher must {PutForksDown} Pick up the second fork inside the try whose finally puts the first one " +
                        "down: a second Enter that throws must not leave the first fork held.",
                ifNeverWaited: _ => $"Philosopher 0 ate while fork {busy} was in use by its neighbour: neighbours ate at the same time. {BothForks}");
            ate.ShouldBeTrue("Once the fork was free again, philosopher 0 ate on the same thread.");
        }
    }
}
