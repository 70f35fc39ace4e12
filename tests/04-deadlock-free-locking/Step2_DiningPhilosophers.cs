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
                $"Philosopher 0 returned while fork {busy} was in use. A hungry philosopher waits until both of its forks are free: " +
                $"one that eats without a fork shares it with its neighbour, and one that gives up starves. {BothForks}");

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
}
