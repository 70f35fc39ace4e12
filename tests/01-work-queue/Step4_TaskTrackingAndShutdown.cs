using System.Collections.Concurrent;

namespace ConcurrencyKata.Tests.WorkQueue;

/// <summary>
/// Step 4: TaskDone/Join as in Python's queue.Queue, Complete() for shutdown, and a small pool of worker threads
/// that drains the queue like the article's worker() loop. See exercises/01-work-queue/README.md.
/// </summary>
[Step(4)]
[TestFixture]
public sealed class Step4_TaskTrackingAndShutdown : ConcurrencyTest
{
    private const string JoinLostWakeUp =
        "Lost wake-up: Join was never woken by the last TaskDone — PulseAll when the count of unfinished tasks reaches zero.";
    private const string CompleteMustWake =
        "Complete() did not wake the blocked callers: it must PulseAll, so that each one sees the queue is complete.";

    [Test]
    public void Join_returns_at_once_when_nothing_was_put()
    {
        var queue = new WorkQueue<int>();
        LearnerThread.Start("joiner", () => queue.Join()).ShouldFinish(
            "Join waited although no task was ever put. Check the count of unfinished tasks before waiting " +
            "(while (count > 0) Monitor.Wait(...)): with no task left, no TaskDone will ever come to wake Join.");
        queue.UnfinishedTasks.ShouldBe(0);
    }

    [Test]
    public void UnfinishedTasks_counts_puts_minus_TaskDones()
    {
        var queue = new WorkQueue<int>();
        queue.Put(1);
        queue.Put(2);
        queue.UnfinishedTasks.ShouldBe(2, "Every Put adds an unfinished task.");
        queue.Take();
        queue.UnfinishedTasks.ShouldBe(2, "Take does not finish a task: the consumer calls TaskDone when it has processed the item.");
        queue.TaskDone();
        queue.UnfinishedTasks.ShouldBe(1, "TaskDone finishes one task.");
    }

    [Test]
    public void Join_waits_until_every_item_taken_is_reported_done()
    {
        var queue = new WorkQueue<int>();
        queue.Put(1);
        queue.Put(2);
        queue.Take();
        queue.Take();

        var joiner = LearnerThread.Start("joiner", () => queue.Join());
        joiner.ShouldBlock("Join returned while 2 tasks were unfinished. Join waits for TaskDone, not for an empty queue.");
        queue.TaskDone();
        joiner.ShouldBlock("Join returned while 1 task was still unfinished: it must wait until every task is done.");
        queue.TaskDone();
        joiner.ShouldFinish(JoinLostWakeUp);
    }

    [Test]
    public void Every_joiner_wakes_on_the_last_TaskDone()
    {
        var queue = new WorkQueue<int>();
        queue.Put(1);
        queue.Take();
        var joiners = Enumerable.Range(1, 3).Select(i => LearnerThread.Start($"joiner-{i}", () => queue.Join())).ToList();
        joiners.ForEach(j => j.ShouldBlock("Join returned while a task was unfinished."));

        queue.TaskDone();
        foreach (var joiner in joiners)
        {
            joiner.ShouldFinish(
                "Only some joiners woke on the last TaskDone: Monitor.Pulse wakes one waiter. Use PulseAll so every joiner wakes.");
        }
    }

    [Test]
    public void An_extra_TaskDone_throws_and_changes_nothing()
    {
        var queue = new WorkQueue<int>();
        Expect.Throws<InvalidOperationException>(() => queue.TaskDone(),
            "TaskDone on a queue with no unfinished task must throw InvalidOperationException (Python raises ValueError).");

        queue.Put(1);
        queue.Take();
        queue.TaskDone();
        Expect.Throws<InvalidOperationException>(() => queue.TaskDone(),
            "A second TaskDone for one item must throw InvalidOperationException: more TaskDones than Puts is a bug in the caller.");
        queue.UnfinishedTasks.ShouldBe(0, "A rejected TaskDone must not drive the count below zero.");

        queue.Put(2);
        queue.UnfinishedTasks.ShouldBe(1, "The queue keeps counting correctly after a rejected TaskDone.");
        LearnerThread.Start("joiner", () =>
        {
            queue.Take();
            queue.TaskDone();
            queue.Join();
        }).ShouldFinish("After a rejected TaskDone, Join no longer returns: the count went wrong.");
    }

    [Test]
    public void Task_counting_stays_exact_when_many_threads_put_and_finish_at_once()
    {
        const int PerThread = 10_000;
        int pairs = Concurrently.Contenders / 2;
        var queue = new WorkQueue<int>();
        Concurrently.Run(
            [
                ("producer", pairs, _ =>
                {
                    for (int i = 0; i < PerThread; i++)
                    {
                        queue.Put(i);
                    }
                }),
                ("consumer", pairs, _ =>
                {
                    for (int i = 0; i < PerThread; i++)
                    {
                        queue.Take();
                        queue.TaskDone();
                    }
                }),
            ],
            "A consumer waits for an item that never comes: items or wake-ups were lost.",
            diagnosisIfThrew:
            "TaskDone saw no unfinished task although every TaskDone follows a Take of a Put item: the count of unfinished " +
            "tasks lost updates. Change it only under the lock.");

        queue.UnfinishedTasks.ShouldBe(0,
            $"Lost update: {pairs * PerThread} Puts and as many TaskDones must leave 0 unfinished tasks. The counter is " +
            "read, changed and written back: do it under the same lock as the items.");
        LearnerThread.Start("joiner", () => queue.Join()).ShouldFinish(JoinLostWakeUp);
    }

    [Test]
    public void A_blocked_Join_can_be_cancelled()
    {
        var queue = new WorkQueue<int>();
        queue.Put(1);
        using var cancel = new CancellationTokenSource();
        var joiner = LearnerThread.Start("joiner", () => queue.Join(cancel.Token));
        joiner.ShouldBlock("Join returned while a task was unfinished.");
        Cancellation.CancelOnOwnThread(cancel);
        joiner.ShouldThrow<OperationCanceledException>(
            "Join ignores its CancellationToken: wake waiters on cancellation and check the token in the wait loop.",
            "A cancelled Join must throw OperationCanceledException.");
        queue.UnfinishedTasks.ShouldBe(1, "Cancelling Join changes nothing.");
    }

    [Test]
    public void After_Complete_no_item_can_be_put()
    {
        var queue = new WorkQueue<int>(5);
        queue.PutWhileThereIsRoom(1);
        queue.IsAddingCompleted.ShouldBeFalse();
        queue.Complete();
        queue.IsAddingCompleted.ShouldBeTrue("Complete() marks the queue complete for adding.");

        Expect.Throws<InvalidOperationException>(() => queue.Put(2), "Put after Complete() must throw InvalidOperationException.");
        Expect.Throws<InvalidOperationException>(() => queue.TryPut(2, TimeSpan.Zero), "TryPut after Complete() must throw InvalidOperationException.");
        queue.Count.ShouldBe(1, "A refused Put adds nothing.");
        queue.UnfinishedTasks.ShouldBe(1, "A refused Put adds no task.");
    }

    [Test]
    public void After_Complete_takers_drain_what_is_left_then_learn_the_queue_is_complete()
    {
        var queue = new WorkQueue<int>();
        queue.Put(1);
        queue.Put(2);
        queue.Complete();
        queue.IsCompleted.ShouldBeFalse("IsCompleted stays false while items are left to take.");

        var taker = LearnerThread.Start("taker", () =>
        {
            int first = queue.Take();
            int second = queue.Take();
            bool tryTakeAfterEnd = queue.TryTake(out _, TimeSpan.FromMinutes(5));
            var ex = Expect.Throws<InvalidOperationException>(() => queue.Take(),
                "Take on a complete and empty queue must throw InvalidOperationException: no item will ever come.");
            return (first, second, tryTakeAfterEnd, ex.Message.Length > 0);
        });
        taker.ShouldFinish(
            "A taker on a complete queue waited: once Complete() was called and the queue is empty, Take throws and " +
            "TryTake returns false at once, whatever the timeout.",
            diagnosisIfThrew:
            "Take threw although items were still in the queue. Items put before Complete() are still taken: Complete() closes " +
            "the entrance, not the exit; only a complete AND empty queue makes Take throw.")
            .ShouldBe((1, 2, false, true), "Items put before Complete() are still taken, in order; then the queue reports completion.");
        queue.IsCompleted.ShouldBeTrue("IsCompleted is true once the queue is complete and empty.");
    }

    [Test]
    public void Complete_wakes_every_blocked_taker()
    {
        var queue = new WorkQueue<int>();
        var takers = Enumerable.Range(1, 2).Select(i => LearnerThread.Start($"taker-{i}", () => queue.Take())).ToList();
        takers.ForEach(t => t.ShouldBlock("Take returned on an empty queue: it must wait."));

        queue.Complete();
        foreach (var taker in takers)
        {
            taker.ShouldThrow<InvalidOperationException>(
                CompleteMustWake,
                "A taker woken by Complete() on an empty queue must throw InvalidOperationException: no item will ever come.");
        }
    }

    [Test]
    public void Complete_wakes_a_blocked_putter_which_throws_without_adding()
    {
        var queue = new WorkQueue<int>(1);
        queue.PutWhileThereIsRoom(1);
        var putter = LearnerThread.Start("putter", () => queue.Put(2));
        putter.ShouldBlock("Put returned although the queue was full.");

        queue.Complete();
        putter.ShouldThrow<InvalidOperationException>(
            CompleteMustWake,
            "A Put still waiting for room when Complete() is called must throw InvalidOperationException, not add its item.");
        queue.Count.ShouldBe(1, "The refused item must not be added.");
        queue.Take().ShouldBe(1);
    }

    [Test]
    public void Complete_twice_is_harmless()
    {
        var queue = new WorkQueue<int>();
        queue.Complete();
        try
        {
            queue.Complete();
        }
        catch (Exception ex) when (ex is not NotImplementedException)
        {
            Assert.Fail(
                $"The second Complete() threw {ex.GetType().Name} (\"{ex.Message}\"): calling Complete() again must do nothing. " +
                "Shutdown paths overlap (a producer finishes, Dispose runs), and each may complete the queue.");
        }

        queue.IsCompleted.ShouldBeTrue("A queue completed twice is still complete.");
    }

    [Test]
    public void GetConsumingEnumerable_waits_for_items_and_ends_on_completion()
    {
        var queue = new WorkQueue<int>();
        queue.Put(1);
        var consumer = LearnerThread.Start("consumer", () => queue.GetConsumingEnumerable().ToList());
        consumer.ShouldBlock("The consuming enumeration ended (or failed) while the queue was empty but not complete: it must wait.");
        queue.Put(2);
        queue.Put(3);
        consumer.ShouldBlock("The consuming enumeration ended before Complete() was called: it must wait for more items.");
        queue.Complete();
        consumer.ShouldFinish($"The consuming enumeration never ended after Complete(). {CompleteMustWake}")
            .ShouldBe(new List<int> { 1, 2, 3 }, "GetConsumingEnumerable yields every item, in order, then ends.");
        queue.Count.ShouldBe(0, "Each item is removed from the queue as it is enumerated.");
    }

    [Test]
    public void GetConsumingEnumerable_can_be_cancelled()
    {
        var queue = new WorkQueue<int>();
        using var cancel = new CancellationTokenSource();
        var consumer = LearnerThread.Start("consumer", () => queue.GetConsumingEnumerable(cancel.Token).ToList());
        consumer.ShouldBlock("The consuming enumeration ended while the queue was empty but not complete.");
        Cancellation.CancelOnOwnThread(cancel);
        consumer.ShouldThrow<OperationCanceledException>(
            "The consuming enumeration ignores its CancellationToken: pass it to the Take/TryTake that waits.",
            "A cancelled enumeration must throw OperationCanceledException, not end quietly as if the queue were complete.");
    }

    [Test]
    public void A_WorkerPool_rejects_bad_arguments()
    {
        var queue = new WorkQueue<int>();
        Expect.Throws<ArgumentNullException>(() => new WorkerPool<int>(null!, 2, _ => { }), "A null queue must throw ArgumentNullException.").ParamName.ShouldBe("queue");
        Expect.Throws<ArgumentNullException>(() => new WorkerPool<int>(queue, 2, null!), "A null handler must throw ArgumentNullException.").ParamName.ShouldBe("handler");
        Expect.Throws<ArgumentOutOfRangeException>(() => new WorkerPool<int>(queue, 0, _ => { }),
            "A pool of 0 workers would never drain the queue: throw ArgumentOutOfRangeException.").ParamName.ShouldBe("workerCount");
        queue.IsAddingCompleted.ShouldBeFalse("A rejected pool must leave the queue untouched.");
    }

    [Test]
    public void A_WorkerPool_processes_every_item_once_and_Join_returns()
    {
        const int Items = 2_000;
        var queue = new WorkQueue<int>(16);
        var processed = new ConcurrentDictionary<int, int>();
        var pool = new WorkerPool<int>(queue, 4, item => processed.AddOrUpdate(item, 1, (_, n) => n + 1));
        pool.WorkerCount.ShouldBe(4);

        LearnerThread.Start("producer", () =>
        {
            for (int i = 0; i < Items; i++)
            {
                queue.Put(i);
            }

            queue.Join();
        }).ShouldFinish("queue.Join() never returned: does every worker call TaskDone after each item (in a finally)?");

        processed.Count.ShouldBe(Items, "Every item put was processed.");
        processed.Where(p => p.Value != 1).Select(p => p.Key).ShouldBeEmpty("No item was processed twice.");
        LearnerThread.Start("shutdown", pool.Shutdown).ShouldFinish(
            "Shutdown never returned: complete the queue so the workers' loops end, then join the worker threads.");
        queue.IsAddingCompleted.ShouldBeTrue("Shutdown completes the queue.");
    }

    [Test]
    public void A_WorkerPools_workers_run_at_the_same_time()
    {
        // Each handler waits until all three are inside a handler at once. Only a pool whose three workers really
        // run in parallel gets there; a pool that processes one item at a time never does.
        const int Workers = 3;
        var queue = new WorkQueue<int>();
        using var allInside = new CountdownEvent(Workers);
        int sawAllThree = 0;
        using var pool = new WorkerPool<int>(queue, Workers, _ =>
        {
            allInside.Signal();
            if (allInside.Wait(Deadlines.Hang))
            {
                Interlocked.Increment(ref sawAllThree);
            }
        });

        for (int i = 0; i < Workers; i++)
        {
            queue.Put(i);
        }

        allInside.ShouldOpen($"Fewer than {Workers} workers were processing items at once: WorkerPool must start workerCount threads that each take items.");
        LearnerThread.Start("joiner", () => queue.Join()).ShouldFinish("queue.Join() never returned after the workers processed every item.");
        sawAllThree.ShouldBe(Workers);
    }

    [Test]
    public void A_WorkerPool_survives_a_throwing_handler_and_reports_it_at_Shutdown()
    {
        var queue = new WorkQueue<int>();
        var processed = new ConcurrentQueue<int>();

        // One worker: items after the failing ones can only be processed if the worker survived the exception.
        var pool = new WorkerPool<int>(queue, 1, item =>
        {
            if (item is 3 or 7)
            {
                throw new FormatException($"bad item {item}");
            }

            processed.Enqueue(item);
        });
        for (int i = 1; i <= 10; i++)
        {
            queue.Put(i);
        }

        LearnerThread.Start("joiner", () => queue.Join()).ShouldFinish(
            "queue.Join() never returned: a failed item must still be reported done — call TaskDone in a finally.");
        processed.ToArray().ShouldBe([1, 2, 4, 5, 6, 8, 9, 10], "The worker carries on after a handler exception: catch it, remember it, continue.");

        var shutdown = LearnerThread.Start("shutdown", pool.Shutdown);
        var error = shutdown.ShouldThrow<AggregateException>(
            "Shutdown never returned: complete the queue, then join the workers.",
            "Shutdown must throw an AggregateException holding every exception the handler threw.");
        error.InnerExceptions.Select(e => e.Message).ShouldBe(["bad item 3", "bad item 7"], "Every handler exception, in the order caught.");
    }

    [Test]
    public void A_WorkerPools_threads_are_background_threads()
    {
        var queue = new WorkQueue<int>();
        bool? background = null;
        using var handled = new ManualResetEventSlim();
        var pool = new WorkerPool<int>(queue, 1, _ =>
        {
            background = Thread.CurrentThread.IsBackground;
            handled.Set();
        });
        queue.Put(1);
        handled.ShouldOpen("The pool's worker never processed the item that was put.");
        background.ShouldBe(true, "Worker threads must be background threads (IsBackground = true), so a forgotten pool cannot keep the process alive.");
        LearnerThread.Start("dispose", pool.Dispose).ShouldFinish("Dispose never returned: complete the queue and join the workers.");
    }
}
