using System.Runtime.CompilerServices;

namespace ConcurrencyKata.Tests.WorkQueue;

/// <summary>Step 1: the queue's plain semantics, one thread at a time. See exercises/01-work-queue/README.md.</summary>
[Step(1)]
[TestFixture]
public sealed class Step1_SingleThreaded : ConcurrencyTest
{
    [Test]
    public void Items_come_out_in_the_order_they_were_put()
    {
        var queue = new WorkQueue<int>();

        // Twice on the same instance: the second round catches state that the first one left behind.
        for (int round = 1; round <= 2; round++)
        {
            foreach (int item in new[] { 3, 1, 4, 1, 5, 9, 2, 6 })
            {
                queue.Put(item);
            }

            int[] taken = Enumerable.Range(0, 8).Select(_ => queue.Take()).ToArray();
            taken.ShouldBe([3, 1, 4, 1, 5, 9, 2, 6], $"Round {round}: a queue is first in, first out: Take returns the oldest item.");
            queue.Count.ShouldBe(0, $"Round {round}: every item was taken, and Take removes the item it returns: Count must be 0.");
        }
    }

    [Test]
    public void Count_tracks_puts_and_takes()
    {
        var queue = new WorkQueue<string>();
        queue.Count.ShouldBe(0, "A new queue is empty.");
        queue.Put("a");
        queue.Put("b");
        queue.Count.ShouldBe(2, "Count is the number of items in the queue after two puts.");
        queue.Take();
        queue.Count.ShouldBe(1, "Take removes the item it returns.");
    }

    [Test]
    public void An_unbounded_queue_has_no_capacity()
    {
        new WorkQueue<int>().Capacity.ShouldBeNull(
            "The parameterless constructor makes an unbounded queue: Capacity is null. If you store int.MaxValue to mean " +
            "'no limit', keep that stand-in inside the class.");
    }

    [Test]
    public void A_bounded_queue_reports_its_capacity()
    {
        new WorkQueue<int>(3).Capacity.ShouldBe(3, "Capacity is the bound given to the constructor: does the constructor store it?");
        new WorkQueue<int>(1).Capacity.ShouldBe(1, "Capacity 1 is the smallest valid bound.");
    }

    [Test]
    public void A_capacity_below_one_is_rejected()
    {
        foreach (int capacity in new[] { 0, -1, int.MinValue })
        {
            var ex = Expect.Throws<ArgumentOutOfRangeException>(
                () => new WorkQueue<int>(capacity),
                $"new WorkQueue<int>({capacity}) must throw ArgumentOutOfRangeException: a queue that can hold no item is a mistake, not 'unbounded'.");
            ex.ParamName.ShouldBe("capacity", "Name the bad parameter: new ArgumentOutOfRangeException(nameof(capacity), ...).");
        }
    }

    [Test]
    public void Null_is_an_ordinary_item()
    {
        const string NullIsAnItem =
            "null is an ordinary item, not a marker for 'no item': decide whether there is an item by the queue's count " +
            "(or TryTake's bool), never by comparing the item with null or default(T).";
        var queue = new WorkQueue<string?>();
        queue.Put(null);
        queue.Put("after null");
        queue.Count.ShouldBe(2, "null is an item like any other; it must be counted.");
        LearnerThread.Start("taker", () => (queue.Take(), queue.Take()))
            .ShouldFinish($"Take waited although the queue held a null item. {NullIsAnItem}", diagnosisIfThrew: $"Take threw for a null item. {NullIsAnItem}")
            .ShouldBe(((string?)null, (string?)"after null"), $"Take returns the items as they were put, in order (a queue is first in, first out), null included. {NullIsAnItem}");
    }

    [Test]
    public void A_bounded_queue_accepts_items_up_to_its_capacity_without_waiting()
    {
        var queue = new WorkQueue<int>(3);
        queue.PutWhileThereIsRoom(1, 2, 3);
        queue.Count.ShouldBe(3);
    }

    [Test]
    public void A_bounded_queue_keeps_order_across_many_fill_and_drain_cycles()
    {
        var queue = new WorkQueue<int>(3);
        var taken = new List<int>();
        int next = 0;

        // Ten rounds of filling and half-draining a queue of 3 wrap any ring buffer around many times.
        LearnerThread.Start("cycler", () =>
        {
            for (int round = 0; round < 10; round++)
            {
                while (queue.Count < 3)
                {
                    queue.Put(next++);
                }

                taken.Add(queue.Take());
                taken.Add(queue.Take());
            }

            while (queue.Count > 0)
            {
                taken.Add(queue.Take());
            }
        }).ShouldFinish(
            "Put or Take waited although it should not have (Put waited although the queue still had room, or Take although it " +
            "held items, or Count did not go down although Take removes the item it returns): is the full/empty test right, also " +
            "after the buffer wraps around? And Capacity is the bound given to the constructor: is it stored?");

        taken.ShouldBe(
            Enumerable.Range(0, next).ToList(),
            "Every item put comes out exactly once, oldest first (a queue is first in, first out), however often the queue fills and drains.");
    }

    [Test]
    public void The_queue_keeps_no_reference_to_a_taken_item()
    {
        var queue = new WorkQueue<object>();
        WeakReference taken = PutAndTake(queue);
        for (int i = 0; i < 3 && taken.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        taken.IsAlive.ShouldBeFalse(
            "The queue still refers to an item it has handed out, so the item cannot be freed while the queue lives (a " +
            "memory leak that grows with every item). Whatever holds the items must let go of a taken one: Queue<T>.Dequeue " +
            "does; an array must have its slot set to default.");
        GC.KeepAlive(queue);
    }

    /// <summary>Puts a new object and another item, takes the object back, and returns a weak reference to it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference PutAndTake(WorkQueue<object> queue)
    {
        var item = new object();
        queue.Put(item);
        queue.Put("another item");
        queue.Take().ShouldBeSameAs(item, "Take returns the oldest item: a queue is first in, first out.");
        return new WeakReference(item);
    }
}
