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
/// Step 5 (systematic testing) explores the interleavings exhaustively instead.
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

        // Stress can only make a double take likely: a Take that checks (Peek) and acts (Dequeue) under two separate
        // holds of the lock hands out an item twice only when another taker gets in between the two, a few times a
        // second on 2 cores. Step 5 (systematic testing) finds that schedule deterministically, in its first schedule.
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

    private static void AssertNothingLostOrDuplicated(List<long>[] sequences, (int Producer, int Count)[] producers, int round)
    {
        var seen = new HashSet<long>();
        foreach (long item in sequences.SelectMany(list => list))
        {
            if (!seen.Add(item))
            {
                Assert.Fail(
                    $"Round {round}: duplicated item: producer {item / 1_000_000}'s item #{item % 1_000_000} came out twice. {RaceHint}");
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
                        "A FIFO queue hands out each producer's items in the order they were put, whoever takes them.");
                }

                lastSeqOf[producer] = seq;
            }
        }
    }
}
