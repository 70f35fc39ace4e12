namespace ConcurrencyKata.Tests.WorkQueue;

/// <summary>
/// Step 5: the queue of Steps 1–4 under Microsoft Coyote's systematic testing engine. Each test runs a small scenario
/// (a few threads, a few calls) hundreds of times, each time under a different interleaving that Coyote chooses at
/// every lock, wait and pulse, from a fixed seed. The first interleaving that breaks the queue fails the test with a
/// step table to follow line by line, and the seed that replays it. See exercises/01-work-queue/README.md, Step 5.
/// </summary>
/// <remarks>
/// No new code is needed: the step re-checks the learner's queue. The scenarios use tasks (Coyote controls tasks,
/// not raw threads) and only untimed calls: Coyote explores finite timeouts as if they were infinite.
/// </remarks>
[Step(5)]
[Category(Systematic.Category)]
[TestFixture]
public sealed class Step5_SystematicTesting : ConcurrencyTest
{
    private const string Queue = "queue";

    private static readonly Type[] Learner = [typeof(WorkQueue<int>)];

    /// <summary>Loads Coyote's engine before the first test, so that no test's time includes it.</summary>
    [OneTimeSetUp]
    public void LoadTheEngine() => Systematic.WarmUp();

    [Test]
    public void Two_waiting_takers_each_get_one_of_two_items_in_every_schedule()
    {
        Systematic.Explore(
            "two takers wait on an empty queue; a putter puts two items",
            iterations: 300,
            ifStuck: "Lost wake-up: a Take went to sleep and no Put woke it. Does Put call Monitor.PulseAll on the same object " +
                "that Take waits on, while holding the lock?",
            ifThrows: "A woken taker went on without checking again that an item is there (another taker took it first). " +
                "The wait belongs in a while loop that re-checks the condition, not an `if`.",
            learnerTypes: Learner,
            scenario: async log =>
            {
                var queue = new WorkQueue<int>();
                int first = 0;
                int second = 0;
                Task taker1 = log.Start("taker-1", () => first = log.Call("Take()", Queue, () => queue.Take()));
                Task taker2 = log.Start("taker-2", () => second = log.Call("Take()", Queue, () => queue.Take()));
                Task putter = log.Start("putter", () =>
                {
                    log.Call("Put(1)", Queue, () => queue.Put(1));
                    log.Call("Put(2)", Queue, () => queue.Put(2));
                });
                await ScheduleLog.AllFinish(taker1, taker2, putter);

                log.Require(
                    new[] { first, second }.Order().SequenceEqual([1, 2]),
                    $"Two takers and two items: each taker gets exactly one item, none twice (they got {first} and {second}). " +
                    (first == second && first != 0
                        ? "Both got the same item: the two takers read the same head item before either removed it. Reading the head " +
                          "and removing it must happen in one hold of the lock, not in two lock blocks one after the other."
                        : "A woken taker must check again that an item is there before it takes one: the wait belongs in a while loop, not an `if`."));
                log.Require(log.Call("Count", Queue, () => queue.Count) == 0, "Both items were taken: Count must be 0.");
            });
    }

    [Test]
    public void A_bounded_queue_never_holds_more_than_its_capacity_and_wakes_the_right_waiters()
    {
        Systematic.Explore(
            "a queue of capacity 1; two putters put two items each; two takers take two each",
            iterations: 300,
            ifStuck: "Lost wake-up: putters wait for room and takers wait for items on the same monitor. Monitor.Pulse wakes " +
                "just one waiter, possibly of the wrong kind, which goes back to sleep. Use Monitor.PulseAll after every Put and " +
                "every Take, and make the \"is there room?\" check Count < Capacity.",
            ifThrows: "A woken thread went on without checking its condition again. The wait belongs in a while loop that " +
                "re-checks the condition, not an `if`.",
            learnerTypes: Learner,
            scenario: async log =>
            {
                var queue = new WorkQueue<int>(1);
                var taken = new List<int>();
                Action Putter(int a, int b) => () =>
                {
                    foreach (int item in new[] { a, b })
                    {
                        log.Call($"Put({item})", Queue, () => queue.Put(item));
                        int count = log.Call("Count", Queue, () => queue.Count);
                        log.Require(count <= 1, $"A queue of capacity 1 held {count} items. The \"is there room?\" check and the " +
                            "Enqueue must happen under one hold of the lock, and a woken putter must check again (while, not if).");
                    }
                };
                Action Taker() => () =>
                {
                    for (int i = 0; i < 2; i++)
                    {
                        int item = log.Call("Take()", Queue, () => queue.Take());
                        taken.Add(item); // no lock needed: Coyote runs one controlled thread at a time
                    }
                };

                await ScheduleLog.AllFinish(
                    log.Start("putter-1", Putter(1, 2)),
                    log.Start("putter-2", Putter(3, 4)),
                    log.Start("taker-1", Taker()),
                    log.Start("taker-2", Taker()));

                log.Require(
                    taken.Order().SequenceEqual([1, 2, 3, 4]),
                    $"Four items put, four taken: every item comes out exactly once (taken: {string.Join(", ", taken.Order())}).");
            });
    }

    [Test]
    public void The_last_TaskDone_wakes_every_joiner_in_every_schedule()
    {
        Systematic.Explore(
            "two items; a worker takes and finishes them; two threads Join",
            iterations: 300,
            ifStuck: "Only some joiners woke on the last TaskDone: several threads can wait in Join at once, so the last " +
                "TaskDone must wake them all with Monitor.PulseAll (and so must every Put and Take, on the shared monitor).",
            learnerTypes: Learner,
            scenario: async log =>
            {
                var queue = new WorkQueue<int>();
                log.Call("Put(1)", Queue, () => queue.Put(1));
                log.Call("Put(2)", Queue, () => queue.Put(2));
                Task joiner1 = log.Start("joiner-1", () =>
                {
                    log.Call("Join()", Queue, () => queue.Join());
                    log.Require(queue.UnfinishedTasks == 0, "Join returned while a task was still unfinished.");
                });
                Task joiner2 = log.Start("joiner-2", () => log.Call("Join()", Queue, () => queue.Join()));
                Task worker = log.Start("worker", () =>
                {
                    for (int i = 0; i < 2; i++)
                    {
                        _ = log.Call("Take()", Queue, () => queue.Take());
                        log.Call("TaskDone()", Queue, queue.TaskDone);
                    }
                });
                await ScheduleLog.AllFinish(joiner1, joiner2, worker);
            });
    }

    [Test]
    public void Complete_hands_the_remaining_items_out_and_then_wakes_every_waiting_taker()
    {
        Systematic.Explore(
            "one item put; Complete(); two takers consume until the queue is complete",
            iterations: 300,
            ifStuck: "Complete() did not wake the blocked callers: a taker waits for an item that will never come. Complete must " +
                "call Monitor.PulseAll under the lock, and a waiting taker must leave its wait loop once the queue is complete and empty.",
            learnerTypes: Learner,
            scenario: async log =>
            {
                var queue = new WorkQueue<int>();
                int got1 = 0;
                int got2 = 0;
                Task taker1 = log.Start("taker-1", () => got1 = log.Call("drain", Queue, () => queue.GetConsumingEnumerable().Count()));
                Task taker2 = log.Start("taker-2", () => got2 = log.Call("drain", Queue, () => queue.GetConsumingEnumerable().Count()));
                Task producer = log.Start("producer", () =>
                {
                    log.Call("Put(1)", Queue, () => queue.Put(1));
                    log.Call("Complete()", Queue, queue.Complete);
                });
                await ScheduleLog.AllFinish(taker1, taker2, producer);
                log.Require(
                    got1 + got2 == 1,
                    $"Items put before Complete() are still taken: one item was put, the takers got {got1 + got2}.");
            });
    }

    [Test]
    public void Puts_and_takes_lose_nothing_when_Coyote_may_switch_threads_at_every_field_access()
    {
        Systematic.Explore(
            "two putters and a taker, with Coyote switching threads at field reads and writes too",
            iterations: 200,
            ifStuck: "A thread waits forever: is every change of the queue's state followed by Monitor.PulseAll under the lock?",
            learnerTypes: Learner,
            raceChecking: true,
            scenario: async log =>
            {
                var queue = new WorkQueue<int>(1);
                var taken = new List<int>();
                Task putter1 = log.Start("putter-1", () => log.Call("Put(1)", Queue, () => queue.Put(1)));
                Task putter2 = log.Start("putter-2", () => log.Call("Put(2)", Queue, () => queue.Put(2)));
                Task taker = log.Start("taker", () =>
                {
                    for (int i = 0; i < 2; i++)
                    {
                        int count = log.Call("Count", Queue, () => queue.Count);
                        log.Require(count <= 1, $"A queue of capacity 1 held {count} items: the \"is there room?\" check and the " +
                            "Enqueue must happen inside lock (_sync), under one hold of the lock.");
                        taken.Add(log.Call("Take()", Queue, () => queue.Take()));
                    }
                });
                await ScheduleLog.AllFinish(putter1, putter2, taker);
                log.Require(
                    taken.Order().SequenceEqual([1, 2]) && queue.UnfinishedTasks == 2,
                    $"Two items put and taken (taken: {string.Join(", ", taken)}; UnfinishedTasks {queue.UnfinishedTasks}, expected 2): " +
                    "every change of the queue's state must happen inside lock (_sync).");
            });
    }
}
