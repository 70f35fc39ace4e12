namespace ConcurrencyKata.Tests.WorkQueue;

/// <summary>
/// Step 2: many producers and consumers at once. These tests check invariants (nothing lost, nothing duplicated,
/// each producer's order kept), never a schedule, so every correct interleaving passes. See
/// exercises/01-work-queue/README.md.
/// </summary>
/// <remarks>
/// <para>A data race inside <see cref="Queue{T}"/> has no hook to force it from outside: it happens between two
/// instructions of the framework's collection, where no test code runs, and the systematic engine of Step 5 sees a
/// collection call as one indivisible step. So the race is made all but certain instead: in
/// <see cref="Threads_passing_large_items_around_never_lose_duplicate_or_tear_one"/> every item is 64 KB
/// (<see cref="Slab"/>), so copying it in or out of the queue's storage is most of what Put and Take do. Two threads
/// in that storage without the lock overlap within a few rounds, on two cores or on one core that preempts either
/// of them (it nearly always preempts it mid-copy). A lock that some path skips, or that is not the one shared
/// object, is caught in every run: the catalog's race entries are run 20 times in a row on a loaded machine.</para>
/// <para>The tests are short on purpose: this step runs on every save in a watch loop.</para>
/// </remarks>
[Step(2)]
[TestFixture]
public sealed class Step2_SafeUnderConcurrency : ConcurrencyTest
{
    private const int ItemsPerProducer = 5_000;

    /// <summary>The rule every failure of this step names.</summary>
    private const string RaceHint = Rules.OneLock;

    /// <summary>Loads Coyote's engine before the first test, so that no test's time includes it.</summary>
    [OneTimeSetUp]
    public void LoadTheEngine() => Systematic.WarmUp();

    [Test]
    public void Many_producers_and_consumers_lose_nothing_duplicate_nothing_and_keep_each_producers_order()
    {
        int producers = Concurrently.Contenders / 2;
        int consumers = Concurrently.Contenders / 2;
        int seeds = producers * ItemsPerProducer;
        const int SeedProducer = 99;
        var queue = new WorkQueue<long>();

        // Round after round on the same instance: a queue must be as good the second time, and each round is one
        // more chance for a race to show.
        Stress.Repeat(round =>
        {
            // The queue starts with as many items as the consumers will take, so no Take ever finds it empty and
            // this step needs no waiting yet (that is Step 3): it is about mutual exclusion only.
            for (long seq = 0; seq < seeds; seq++)
            {
                queue.Put(Encode(SeedProducer, seq));
            }

            var takenBy = new List<long>[consumers];
            Concurrently.Run(
                [
                    ("producer", producers, p =>
                    {
                        for (long seq = 0; seq < ItemsPerProducer; seq++)
                        {
                            queue.Put(Encode(p, seq));
                        }
                    }),
                    ("consumer", consumers, c =>
                    {
                        var mine = takenBy[c] = [];
                        for (int i = 0; i < seeds / consumers; i++)
                        {
                            mine.Add(queue.Take());
                        }
                    }),
                ],
                $"A Take or Put never returned although the queue was never empty and is unbounded. {RaceHint}",
                diagnosisIfThrew: $"The queue's internal state was corrupted by two threads at once. {RaceHint}");

            // What the consumers left behind, drained on this thread, is one more sequence that must keep the order.
            var rest = new List<long>();
            while (queue.Count > 0)
            {
                rest.Add(queue.Take());
            }

            List<long>[] sequences = [.. takenBy, rest];
            AssertNothingLostOrDuplicated(sequences, [.. Enumerable.Range(0, producers).Select(p => (p, ItemsPerProducer)), (SeedProducer, seeds)], round);
            AssertEachProducersOrderKept(sequences, round);
        }, budget: TimeSpan.FromSeconds(0.3));
    }

    [Test]
    public void Threads_passing_large_items_around_never_lose_duplicate_or_tear_one()
    {
        // Every thread takes an item and puts it back, again and again: the items circulate, their number never
        // changes, and the queue is never empty (there are more items than threads), so no Take waits. Each item is
        // 64 KB (Slab): copying it in and out of the queue's storage is a large part of what Put and Take do. There
        // are many more threads than cores, so the operating system keeps preempting them, at any instruction: a
        // thread preempted while it copies inside the storage, without the lock, is overtaken there by another one.
        // Without a lock on some path, that happens dozens of times in one run; with it, never.
        var queue = new WorkQueue<Slab>();
        QueueSetup.CirculateLargeItems(queue, () => (true, queue.Take()), threads: 16, rounds: 300, RaceHint);
    }

    [Test]
    [Category(Systematic.Category)]
    public void Takers_and_a_putter_each_act_in_one_step_in_every_schedule()
    {
        // The real threads above cannot stop between two lines of the learner's code; Coyote can. It runs this small
        // scenario under hundreds of schedules, switching threads at every lock and at every read and write of a
        // field, so a check and an act made under two holds of the lock (Peek, then Dequeue; "is there one?", then
        // take it) are split by another thread in some schedule, every run.
        Systematic.Explore(
            "four items; two takers take two each while a putter puts two more",
            iterations: 40,
            ifStuck: $"Every thread is blocked, although no call of this scenario has to wait (the queue never runs empty). {RaceHint}",
            ifThrows: $"Two threads changed the queue at once. {RaceHint}",
            learnerTypes: [typeof(WorkQueue<int>)],
            raceChecking: false,
            scenario: async log =>
            {
                const string Queue = "queue";
                var queue = new WorkQueue<int>();
                for (int item = 1; item <= 4; item++)
                {
                    queue.Put(item);
                }

                var takenBy = new[] { new List<int>(), new List<int>() };
                Action Taker(List<int> taken) => () =>
                {
                    for (int i = 0; i < 2; i++)
                    {
                        int item = log.Call("Take()", Queue, () => queue.Take());
                        Systematic.Quietly(() => taken.Add(item));
                    }
                };
                await ScheduleLog.AllFinish(
                    log.Start("taker-1", Taker(takenBy[0])),
                    log.Start("taker-2", Taker(takenBy[1])),
                    log.Start("putter", () =>
                    {
                        log.Call("Put(5)", Queue, () => queue.Put(5));
                        log.Call("Put(6)", Queue, () => queue.Put(6));
                    }));

                int[] twice = takenBy[0].Intersect(takenBy[1]).ToArray();
                log.Require(
                    twice.Length == 0,
                    $"Both takers got item {string.Join(", ", twice)}: the two takers read the same head item before either removed it. " +
                    $"Reading the head and removing it must happen in one hold of the lock. {RaceHint}");
                int count = log.Call("Count", Queue, () => queue.Count);
                log.Require(count == 2, $"Six items put, four taken: Count must be 2, not {count}. {RaceHint}");
                int[] left = [log.Call("Take()", Queue, () => queue.Take()), log.Call("Take()", Queue, () => queue.Take())];
                int[] all = [.. takenBy[0], .. takenBy[1], .. left];
                log.Require(
                    all.Order().SequenceEqual([1, 2, 3, 4, 5, 6]),
                    $"Every item put comes out exactly once (taken: {string.Join(", ", takenBy[0])} and {string.Join(", ", takenBy[1])}; " +
                    $"left: {string.Join(", ", left)}). {RaceHint}");
                log.Require(
                    takenBy.All(taken => taken.SequenceEqual(taken.Order())) && left.SequenceEqual(left.Order()),
                    $"Each taker gets its items in the order they were put (first in, first out). {RaceHint}");
            });
    }

    private static long Encode(int producer, long seq) => (producer * 1_000_000L) + seq;

    private static void AssertNothingLostOrDuplicated(List<long>[] sequences, (int Producer, int Count)[] producers, int round)
    {
        var seen = new HashSet<long>();
        foreach (long item in sequences.SelectMany(list => list))
        {
            if (!seen.Add(item))
            {
                Assert.Fail(
                    $"Round {round}: duplicated item: producer {item / 1_000_000}'s item #{item % 1_000_000} came out twice (two takers " +
                    $"read the same head item before either removed it). {RaceHint}");
            }
        }

        int expected = producers.Sum(p => p.Count);
        if (seen.Count != expected)
        {
            var all = producers.SelectMany(p => Enumerable.Range(0, p.Count).Select(s => Encode(p.Producer, s))).ToHashSet();
            long? missing = all.Where(item => !seen.Contains(item)).Select(item => (long?)item).FirstOrDefault();
            Assert.Fail(missing is long lost
                ? $"Round {round}: lost items: {seen.Count} of {expected} items came out; for example producer {lost / 1_000_000}'s " +
                  $"item #{lost % 1_000_000} never did. {RaceHint}"
                : $"Round {round}: {seen.Count - expected} items came out that were never put (corrupted values). {RaceHint}");
        }
    }

    private static void AssertEachProducersOrderKept(List<long>[] takenBy, int round)
    {
        for (int c = 0; c < takenBy.Length; c++)
        {
            var lastSeqOf = new Dictionary<long, long>();
            foreach (long item in takenBy[c])
            {
                long producer = item / 1_000_000;
                long seq = item % 1_000_000;
                if (lastSeqOf.TryGetValue(producer, out long last) && seq < last)
                {
                    Assert.Fail(
                        $"Round {round}: order broken: {(c < takenBy.Length - 1 ? $"consumer-{c}" : "the final drain")} took producer {producer}'s item #{seq} after its item #{last}. " +
                        "A FIFO queue hands out each producer's items in the order they were put, whoever takes them. If Step 1 passes, " +
                        $"two threads changed the queue at once. {RaceHint}");
                }

                lastSeqOf[producer] = seq;
            }
        }
    }
}
