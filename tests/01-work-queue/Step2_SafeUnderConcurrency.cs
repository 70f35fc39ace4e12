using System.Collections.Concurrent;

namespace ConcurrencyKata.Tests.WorkQueue;

/// <summary>
/// Step 2: many producers and consumers at once. These tests check invariants (nothing lost, nothing duplicated,
/// each producer's order kept), never a schedule, so every correct interleaving passes. See
/// exercises/01-work-queue/README.md.
/// </summary>
/// <remarks>
/// A data race has no hook to force it from outside the learner's code, so these are bounded stress tests: many
/// threads, released together on a barrier, hammering one queue. Unsynchronised code loses or duplicates items in
/// practically every run; the catalog entries for it (no-lock, lock-per-call-object, ...) are checked in CI.
/// Step 6 of the systematic-testing issue explores the interleavings exhaustively instead.
/// </remarks>
[Step(2)]
[TestFixture]
public sealed class Step2_SafeUnderConcurrency : ConcurrencyTest
{
    private const int ItemsPerProducer = 20_000;
    private const string RaceHint =
        "Is every read and write of the queue's state inside lock (_sync) — the same private object every time — " +
        "so that the check (is there an item? is there room?) and the act (Dequeue/Enqueue) happen under one hold of the lock?";

    [Test]
    public void Many_producers_and_consumers_lose_nothing_duplicate_nothing_and_keep_each_producers_order()
    {
        int producers = Concurrently.Contenders / 2;
        int consumers = Concurrently.Contenders / 2;
        const long Stop = -1;
        const long Exit = -2;
        var queue = new WorkQueue<long>();
        var takenBy = new List<long>[consumers];

        // Round after round on the same instance: a queue must be as good the second time, and each round is one
        // more chance for a race to show.
        Stress.Repeat(round =>
        {
            int stopsSeen = 0;
            Concurrently.Run(
                [
                    ("producer", producers, p =>
                    {
                        for (long seq = 0; seq < ItemsPerProducer; seq++)
                        {
                            queue.Put(Encode(p, seq));
                        }

                        // A stop marker after its last item: when every producer's marker is out, so is every item.
                        queue.Put(Stop);
                    }),
                    ("consumer", consumers, c =>
                    {
                        var mine = takenBy[c] = [];
                        while (true)
                        {
                            long item = queue.Take();
                            if (item == Exit)
                            {
                                return;
                            }

                            if (item == Stop)
                            {
                                if (Interlocked.Increment(ref stopsSeen) == producers)
                                {
                                    // The last marker: release the other consumers, then leave.
                                    for (int other = 1; other < consumers; other++)
                                    {
                                        queue.Put(Exit);
                                    }

                                    return;
                                }

                                continue;
                            }

                            mine.Add(item);
                        }
                    }),
                ],
                $"Items or wake-ups were lost, so a consumer waits for an item that will never come. {RaceHint}",
                diagnosisIfThrew: $"The queue's internal state was corrupted by two threads at once. {RaceHint}");

            queue.Count.ShouldBe(0, $"Round {round}: Count must be 0 once everything was taken. {RaceHint}");
            AssertNothingLostOrDuplicated(takenBy, producers, round);
            AssertEachProducersOrderKept(takenBy, round);
        });
    }

    [Test]
    public void Count_is_exact_after_concurrent_puts()
    {
        int producers = Concurrently.Contenders;
        Stress.Repeat(round =>
        {
            var queue = new WorkQueue<int>();
            Concurrently.Run(
                "producer",
                producers,
                p =>
                {
                    for (int i = 0; i < ItemsPerProducer; i++)
                    {
                        queue.Put(i);
                    }
                },
                $"A Put never returned although the queue is unbounded. {RaceHint}",
                diagnosisIfThrew: $"The queue's internal state was corrupted by two Puts at once. {RaceHint}");

            queue.Count.ShouldBe(
                producers * ItemsPerProducer,
                $"Round {round}: lost update: {producers} threads put {producers * ItemsPerProducer} items in all. Count++ (and Enqueue) " +
                $"read, modify and write back: two threads that do it at once lose one update. {RaceHint}");
        });
    }

    [Test]
    public void Concurrent_takers_never_get_the_same_item_twice()
    {
        int takers = Concurrently.Contenders;
        int total = takers * ItemsPerProducer;
        Stress.Repeat(round =>
        {
            var queue = new WorkQueue<int>();
            for (int i = 0; i < total; i++)
            {
                queue.Put(i);
            }

            var taken = new ConcurrentBag<int>();
            Concurrently.Run(
                "taker",
                takers,
                _ =>
                {
                    for (int i = 0; i < ItemsPerProducer; i++)
                    {
                        taken.Add(queue.Take());
                    }
                },
                $"A taker waits although items were left: items were lost or Count went wrong. {RaceHint}",
                diagnosisIfThrew: $"Two takers removed the same last item: check-then-act race. {RaceHint}");

            int[] duplicates = taken.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToArray();
            duplicates.ShouldBeEmpty(
                $"Round {round}: duplicated items: {string.Join(", ", duplicates)} came out more than once. Two takers both saw the " +
                $"same head item before either removed it (check-then-act race). {RaceHint}");
            taken.Count.ShouldBe(total);
            queue.Count.ShouldBe(0, $"Every item was taken, so Count must be 0. {RaceHint}");
        });
    }

    private static long Encode(int producer, long seq) => (producer * 1_000_000L) + seq;

    private static void AssertNothingLostOrDuplicated(List<long>[] takenBy, int producers, int round)
    {
        var seen = new HashSet<long>();
        foreach (long item in takenBy.SelectMany(list => list))
        {
            if (!seen.Add(item))
            {
                Assert.Fail(
                    $"Round {round}: duplicated item: producer {item / 1_000_000}'s item #{item % 1_000_000} came out twice. {RaceHint}");
            }
        }

        int expected = producers * ItemsPerProducer;
        if (seen.Count != expected)
        {
            long missing = Enumerable.Range(0, producers)
                .SelectMany(p => Enumerable.Range(0, ItemsPerProducer).Select(s => Encode(p, s)))
                .First(item => !seen.Contains(item));
            Assert.Fail(
                $"Round {round}: lost items: {seen.Count} of {expected} items came out; for example producer {missing / 1_000_000}'s " +
                $"item #{missing % 1_000_000} never did. {RaceHint}");
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
                        $"Round {round}: order broken: consumer-{c} took producer {producer}'s item #{seq} after its item #{last}. " +
                        "A FIFO queue hands out each producer's items in the order they were put, whoever takes them.");
                }

                lastSeqOf[producer] = seq;
            }
        }
    }
}
