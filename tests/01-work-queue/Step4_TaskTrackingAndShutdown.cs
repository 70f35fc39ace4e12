using System.Collections.Concurrent;
using System.Diagnostics;

namespace ConcurrencyKata.Tests.WorkQueue;

/// <summary>
/// Step 4: TaskDone/Join as in Python's queue.Queue, Complete() for shutdown, and a small pool of worker threads
/// that drains the queue like the article's worker() loop. See exercises/01-work-queue/README.md.
/// </summary>
[Step(4)]
[TestFixture]
public sealed class Step4_TaskTrackingAndShutdown : ConcurrencyTest
{
    private const string JoinMustCheckFirst =
        "Join checks the count of unfinished tasks before waiting (while (count > 0) Monitor.Wait(...)): when none is left, no " +
        "TaskDone will ever come to wake it.";
    private const string JoinWaitsForTaskDone =
        "Join waits for TaskDone, not for an empty queue: it returns when the count of unfinished tasks reaches zero. Put adds " +
        "one; only TaskDone finishes one (Take does not finish a task: the item is taken, not processed).";
    private const string JoinLostWakeUp =
        "Lost wake-up: Join was never woken by the last TaskDone — PulseAll when the count of unfinished tasks reaches zero. " +
        JoinMustCheckFirst;
    private const string PutAfterComplete =
        "Put after Complete() must throw InvalidOperationException, a Put that was waiting for room when Complete() came " +
        "included: check for completion before waiting, and again after every wake-up.";
    private const string CompleteMustWake =
        "Complete() did not wake the blocked callers: it must PulseAll, so that each one sees the queue is complete.";

    /// <summary>When a thread stays blocked after Complete() and the test cannot tell which half is missing.</summary>
    private const string CompleteMustWakeAndWakersMustRecheck =
        $"{CompleteMustWake} (Or it does, and the woken takers do not look at completion again: {Rules.CompletionIsPartOfTheCondition})";

    private const string ShutdownStuck =
        "Shutdown never returned: it completes the queue, so that each worker's loop ends once the queue is empty, then joins " +
        $"the worker threads. The workers are still blocked. {CompleteMustWakeAndWakersMustRecheck}";

    private const string CancelledMustThrow = $"{Rules.CancellationIsNotATimeout} {Rules.NoTrace}";

    private const string ItemsOutliveComplete =
        "Items put before Complete() are still taken: Complete() closes the entrance, not the exit. Only a queue that is complete " +
        "AND empty makes Take throw, TryTake return false and the consuming enumeration end.";

    [Test]
    public void Join_returns_at_once_when_nothing_was_put()
    {
        var queue = new WorkQueue<int>();
        LearnerThread.Start("joiner", () => queue.Join()).ShouldFinish(
            $"Join waited although no task was ever put. {JoinMustCheckFirst}");
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
        FinishTask(queue);
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
        joiner.ShouldBlock($"Join returned while 2 tasks were unfinished. {JoinWaitsForTaskDone}");
        FinishTask(queue);
        joiner.ShouldBlock($"Join returned while 1 task was still unfinished: it must wait until every task is done. {JoinWaitsForTaskDone}");
        FinishTask(queue);
        joiner.ShouldFinish(JoinLostWakeUp);
    }

    [Test]
    public void Every_joiner_wakes_on_the_last_TaskDone()
    {
        var queue = new WorkQueue<int>();
        queue.Put(1);
        queue.Take();
        var joiners = Enumerable.Range(1, 3).Select(i => LearnerThread.Start($"joiner-{i}", () => queue.Join())).ToList();
        joiners.ForEach(j => j.ShouldBlock($"Join returned while a task was unfinished. {JoinWaitsForTaskDone}"));

        FinishTask(queue);
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
        FinishTask(queue);
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
        }).ShouldFinish($"After a rejected TaskDone, Join no longer returns: the count went wrong. {JoinMustCheckFirst}");
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
            $"tasks lost updates, or something else lowered it. {Rules.HarmlessReads} {JoinWaitsForTaskDone}");

        queue.UnfinishedTasks.ShouldBe(0,
            $"Lost update: {pairs * PerThread} Puts and as many TaskDones must leave 0 unfinished tasks. {Rules.HarmlessReads}");
        LearnerThread.Start("joiner", () => queue.Join()).ShouldFinish(JoinLostWakeUp);
    }

    [Test]
    public void A_blocked_Join_can_be_cancelled()
    {
        var queue = new WorkQueue<int>();
        queue.Put(1);
        using var cancel = new CancellationTokenSource();
        var joiner = LearnerThread.Start("joiner", () => queue.Join(cancel.Token));
        joiner.ShouldBlock($"Join returned while a task was unfinished. {JoinWaitsForTaskDone}");
        Cancellation.CancelOnOwnThread(cancel);
        joiner.ShouldThrow<OperationCanceledException>(
                "Join ignores its CancellationToken: wake waiters on cancellation and check the token in the wait loop.",
                $"A cancelled Join must throw OperationCanceledException. {CancelledMustThrow}")
            .ShouldCarry("Join", cancel.Token);
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
        queue.IsCompleted.ShouldBeFalse("An empty queue is not complete until Complete() is called: IsCompleted needs both.");
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
        using var cancelProbe = new CancellationTokenSource();
        var probe = LearnerThread.Start("probe", () => queue.Take(cancelProbe.Token));
        takers.ForEach(t => t.ShouldBlock("Take returned on an empty queue: it must wait."));
        probe.ShouldBlock("Take returned on an empty queue: it must wait.");

        queue.Complete();
        foreach (var taker in takers)
        {
            ShouldLearnTheQueueIsComplete(taker, probe, cancelProbe);
            taker.ShouldThrow<InvalidOperationException>(
                CompleteMustWake,
                "A taker woken by Complete() on an empty queue must throw InvalidOperationException: no item will ever come.");
        }

        probe.TryJoin();
    }

    [Test]
    public void Complete_wakes_a_blocked_putter_which_throws_without_adding()
    {
        var queue = new WorkQueue<int>(1);
        queue.PutWhileThereIsRoom(1);
        var putter = LearnerThread.Start("putter", () => queue.Put(2));
        putter.ShouldBlock("Put returned although the queue was full.");
        using var cancelProbe = new CancellationTokenSource();
        var probe = LearnerThread.Start("probe", () => queue.Put(3, cancelProbe.Token));
        probe.ShouldBlock("Put returned although the queue was full.");

        queue.Complete();
        ShouldNoticeCompletion(putter, probe, cancelProbe, PutAfterComplete);
        probe.TryJoin();
        putter.ShouldThrow<InvalidOperationException>(
            CompleteMustWake,
            $"A Put still waiting for room when Complete() is called must throw InvalidOperationException, not add its item. {PutAfterComplete}");
        queue.Count.ShouldBe(1, "The refused item must not be added.");
        TakeLeftover(queue).ShouldBe(1, ItemsOutliveComplete);
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
        using var cancelProbe = new CancellationTokenSource();
        var probe = LearnerThread.Start("probe", () => queue.Take(cancelProbe.Token));
        probe.ShouldBlock("Take returned on an empty queue: it must wait.");
        queue.Complete();
        if (!consumer.TryJoin(Deadlines.Hang))
        {
            ShouldLearnTheQueueIsComplete(consumer, probe, cancelProbe);
        }

        probe.TryJoin();
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
                $"A cancelled enumeration must throw OperationCanceledException, not end quietly as if the queue were complete. {Rules.CancellationIsNotATimeout}")
            .ShouldCarry("GetConsumingEnumerable", cancel.Token);
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
        }).ShouldFinish($"queue.Join() never returned: does every worker call TaskDone after each item (in a finally)? {JoinMustCheckFirst}");

        processed.Count.ShouldBe(Items, "Every item put was processed.");
        processed.Where(p => p.Value != 1).Select(p => p.Key).ShouldBeEmpty("No item was processed twice.");
        LearnerThread.Start("shutdown", pool.Shutdown).ShouldFinish(ShutdownStuck);
        queue.IsAddingCompleted.ShouldBeTrue("Shutdown completes the queue.");
    }

    [Test]
    public void A_WorkerPools_workers_run_at_the_same_time()
    {
        // Each handler waits until all three are inside a handler at once. Only a pool whose three workers really
        // run in parallel gets there; a pool that processes one item at a time never does.
        const int Workers = 3;
        var queue = new WorkQueue<int>();
        for (int i = 0; i < Workers; i++)
        {
            queue.Put(i);
        }

        using var oneInside = new ManualResetEventSlim();
        using var allInside = new CountdownEvent(Workers);
        int sawAllThree = 0;
        var pool = new WorkerPool<int>(queue, Workers, _ =>
        {
            oneInside.Set();
            allInside.Signal();
            if (allInside.Wait(Deadlines.Hang))
            {
                Interlocked.Increment(ref sawAllThree);
            }
        });

        // While a handler runs, the queue must be free for everyone else: the other workers, producers, Count.
        oneInside.ShouldOpen("No worker ever called the handler: WorkerPool must start workerCount threads that take items and pass them to the handler.");
        var count = LearnerThread.Start("count", () => queue.Count);
        if (!count.TryJoin(Deadlines.Hang / 2))
        {
            Assert.Fail(
                "queue.Count waited while a worker's handler was running: the worker holds the queue's lock while it processes " +
                $"its item, so the other workers cannot take theirs. {Rules.NoYieldInsideTheLock}");
        }

        allInside.ShouldOpen(
            $"Fewer than {Workers} workers were processing items at once (the queue was free): WorkerPool must start workerCount " +
            "threads that each take items.");
        LearnerThread.Start("joiner", () => queue.Join()).ShouldFinish($"queue.Join() never returned after the workers processed every item. {JoinMustCheckFirst}");
        sawAllThree.ShouldBe(Workers);
        LearnerThread.Start("dispose", pool.Dispose).ShouldFinish($"Dispose never returned. {ShutdownStuck}");
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
            $"queue.Join() never returned: a failed item must still be reported done — call TaskDone in a finally. {JoinMustCheckFirst}");
        processed.ToArray().ShouldBe([1, 2, 4, 5, 6, 8, 9, 10], "The worker carries on after a handler exception: catch it, remember it, continue.");

        var shutdown = LearnerThread.Start("shutdown", pool.Shutdown);
        var error = shutdown.ShouldThrow<AggregateException>(
            ShutdownStuck,
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
        LearnerThread.Start("dispose", pool.Dispose).ShouldFinish($"Dispose never returned. {ShutdownStuck}");
    }

    [Test]
    public void A_cancelled_or_timed_out_Put_adds_no_unfinished_task()
    {
        var queue = new WorkQueue<int>(1);
        queue.PutWhileThereIsRoom(1);
        using var already = new CancellationTokenSource();
        already.Cancel();
        Expect.Throws<OperationCanceledException>(() => queue.Put(2, already.Token), $"Put with a cancelled token must throw. {Rules.NoTrace}");
        Expect.Throws<OperationCanceledException>(() => queue.TryPut(2, TimeSpan.Zero, already.Token), $"TryPut with a cancelled token must throw. {Rules.NoTrace}");
        LearnerThread.Start("putter", () => queue.TryPut(3, TimeSpan.FromMilliseconds(10)))
            .ShouldFinish("TryPut(10 ms) on a full queue never returned.").ShouldBe(false);
        using var later = new CancellationTokenSource();
        var putter = LearnerThread.Start("putter", () => queue.Put(4, later.Token));
        putter.ShouldBlock("Put returned although the queue was full.");
        Cancellation.CancelOnOwnThread(later);
        putter.ShouldThrow<OperationCanceledException>("The blocked Put ignores its token.", $"A cancelled Put must throw. {CancelledMustThrow}");

        queue.UnfinishedTasks.ShouldBe(
            1,
            $"Only the one Put that succeeded adds an unfinished task; cancelled and timed-out ones add none. {Rules.NoTrace}");
        queue.Take();
        FinishTask(queue);
        LearnerThread.Start("joiner", () => queue.Join()).ShouldFinish(
            $"Join waits for a task that was never added: a cancelled or timed-out Put counted one. {Rules.NoTrace} {JoinMustCheckFirst}");
    }

    [Test]
    public void Join_with_a_cancelled_token_throws_even_with_nothing_to_wait_for()
    {
        var queue = new WorkQueue<int>();
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Expect.Throws<OperationCanceledException>(
                () => queue.Join(cancel.Token),
                "Join with a token cancelled before the call must throw OperationCanceledException, like every blocking call, " +
                "even when no task is unfinished: the caller has given up.")
            .ShouldCarry("Join", cancel.Token);
    }

    [Test]
    public void Join_waits_across_Complete_for_the_unfinished_tasks()
    {
        var queue = new WorkQueue<int>();
        queue.Put(1);
        queue.Put(2);
        queue.Take();
        var joiner = LearnerThread.Start("joiner", () => queue.Join());
        joiner.ShouldBlock($"Join returned while 2 tasks were unfinished. {JoinWaitsForTaskDone}");

        queue.Complete();
        joiner.ShouldBlock(
            "Join returned when the queue was completed, with 2 tasks unfinished: Complete() closes the entrance, it finishes " +
            "nothing. Join waits for TaskDone.");
        TakeLeftover(queue).ShouldBe(2, ItemsOutliveComplete);
        FinishTask(queue);
        joiner.ShouldBlock($"Join returned while 1 task was unfinished. {JoinWaitsForTaskDone}");
        FinishTask(queue);
        joiner.ShouldFinish(JoinLostWakeUp);
        LearnerThread.Start("joiner-2", () => queue.Join()).ShouldFinish($"Join on a complete queue with no unfinished task must return at once. {JoinMustCheckFirst}");
    }

    [Test]
    public void A_blocked_TryPut_throws_and_a_blocked_TryTake_returns_false_when_the_queue_is_completed()
    {
        var full = new WorkQueue<int>(1);
        full.PutWhileThereIsRoom(1);
        var putter = LearnerThread.Start("putter", () => full.TryPut(2, TimeSpan.FromMinutes(5)));
        putter.ShouldBlock("TryPut(5 min) returned although the queue was full.");
        using var cancelProbe = new CancellationTokenSource();
        var probe = LearnerThread.Start("probe", () => full.Put(3, cancelProbe.Token));
        probe.ShouldBlock("Put returned although the queue was full.");
        full.Complete();
        ShouldNoticeCompletion(putter, probe, cancelProbe, PutAfterComplete);
        probe.TryJoin();
        putter.ShouldThrow<InvalidOperationException>(
            CompleteMustWake,
            "A TryPut still waiting for room when Complete() is called must throw InvalidOperationException, like Put: it must " +
            $"not add its item, nor report a timeout. {PutAfterComplete}");
        full.Count.ShouldBe(1, "The refused item is not added.");

        var empty = new WorkQueue<int>();
        var taker = LearnerThread.Start("taker", () => empty.TryTake(out int item, TimeSpan.FromMinutes(5)) ? item : -1);
        taker.ShouldBlock("TryTake(5 min) returned on an empty queue.");
        using var cancelTakeProbe = new CancellationTokenSource();
        var takeProbe = LearnerThread.Start("probe", () => empty.Take(cancelTakeProbe.Token));
        takeProbe.ShouldBlock("Take returned on an empty queue.");
        empty.Complete();
        ShouldNoticeCompletion(taker, takeProbe, cancelTakeProbe, Rules.CompletionIsPartOfTheCondition);
        takeProbe.TryJoin();
        taker.ShouldFinish(CompleteMustWakeAndWakersMustRecheck).ShouldBe(-1, "A TryTake waiting when the queue is completed, empty, returns false.");
    }

    [Test]
    public void Complete_in_the_middle_of_the_stream_loses_nothing_and_no_Put_succeeds_after_it_returned()
    {
        // Writers put until Put refuses; readers poll TryTake with zero or tiny timeouts until the queue is complete and
        // empty. Complete() comes while all of them are busy. Every item whose Put returned must come out exactly
        // once; a Put that began after Complete() had returned must not succeed.
        const int Writers = 3;
        const int Readers = 3;
        var queue = new WorkQueue<long>();
        var put = new ConcurrentBag<long>();
        var taken = new ConcurrentBag<long>();
        var lateSuccess = new ConcurrentBag<long>();
        int completeReturned = 0;
        using var started = new CountdownEvent(Writers);
        var writers = Enumerable.Range(0, Writers).Select(w => LearnerThread.Start($"writer-{w}", () =>
        {
            for (long seq = 0; ; seq++)
            {
                long item = (w * 1_000_000_000L) + seq;
                bool after = Volatile.Read(ref completeReturned) == 1;
                try
                {
                    queue.Put(item);
                }
                catch (InvalidOperationException)
                {
                    return seq;
                }

                put.Add(item);
                if (after)
                {
                    lateSuccess.Add(item);
                }

                if (seq == 200)
                {
                    started.Signal();
                }
            }
        })).ToList();
        TimeSpan[] polls = [TimeSpan.Zero, TimeSpan.FromTicks(1), TimeSpan.FromMilliseconds(1)];
        var readers = Enumerable.Range(0, Readers).Select(r => LearnerThread.Start($"reader-{r}", () =>
        {
            for (int i = 0; ; i++)
            {
                if (queue.TryTake(out long item, polls[i % polls.Length]))
                {
                    taken.Add(item);
                }
                else if (queue.IsCompleted)
                {
                    return;
                }
            }
        })).ToList();

        started.ShouldOpen("The writers never got going: Put into an unbounded queue must not wait.");
        queue.Complete();
        Volatile.Write(ref completeReturned, 1);
        writers.ForEach(w => w.ShouldFinish(
            $"A writer never stopped: once Complete() has returned, every Put must throw InvalidOperationException. {PutAfterComplete}",
            diagnosisIfThrew: "Put may only throw InvalidOperationException, once the queue is complete."));
        readers.ForEach(r => r.ShouldFinish(
            "A reader never saw the end: once the queue is complete and empty, TryTake returns false at once and IsCompleted is " +
            $"true (and while items are left, TryTake takes them: {ItemsOutliveComplete}) {CompleteMustWakeAndWakersMustRecheck}"));

        lateSuccess.ShouldBeEmpty("A Put that began after Complete() had returned succeeded: the check for completion must be made under the lock, in the same hold as the Enqueue.");
        long[] left = [.. queue.GetConsumingEnumerable()];
        left.ShouldBeEmpty($"The readers stopped while items were still in the queue: IsCompleted said true too early. {Rules.HarmlessReads}");
        taken.Count.ShouldBe(taken.Distinct().Count(), $"An item came out twice. {Rules.OneLock}");
        taken.Order().ShouldBe(put.Order(), $"Every item whose Put returned must be taken exactly once, those put just before Complete() too. {Rules.OneLock}");
    }

    [Test]
    [Category(Systematic.Category)]
    public void Task_counting_is_exact_in_every_schedule()
    {
        // Real threads rarely collide inside a count++; Coyote switches threads between its read and its write.
        Systematic.Explore(
            "two putters put at once; two finishers each take an item and report it done",
            iterations: 200,
            ifStuck: $"Every thread is blocked: a Take waits for an item, or Join for a task, that the counts say is not there. {Rules.HarmlessReads} {JoinMustCheckFirst}",
            ifThrows: $"The count of unfinished tasks went wrong. {Rules.HarmlessReads} {JoinWaitsForTaskDone}",
            learnerTypes: [typeof(WorkQueue<int>)],
            raceChecking: true,
            scenario: async log =>
            {
                const string Queue = "queue";
                var queue = new WorkQueue<int>();
                await ScheduleLog.AllFinish(
                    log.Start("putter-1", () => log.Call("Put(1)", Queue, () => queue.Put(1))),
                    log.Start("putter-2", () => log.Call("Put(2)", Queue, () => queue.Put(2))));
                int unfinished = log.Call("UnfinishedTasks", Queue, () => queue.UnfinishedTasks);
                log.Require(unfinished == 2, $"Two Puts, no TaskDone yet: UnfinishedTasks must be 2, not {unfinished}. {Rules.HarmlessReads}");

                Action Finisher() => () =>
                {
                    _ = log.Call("Take()", Queue, () => queue.Take());
                    log.Call("TaskDone()", Queue, queue.TaskDone);
                };
                await ScheduleLog.AllFinish(log.Start("finisher-1", Finisher()), log.Start("finisher-2", Finisher()));
                unfinished = log.Call("UnfinishedTasks", Queue, () => queue.UnfinishedTasks);
                log.Require(unfinished == 0, $"Two Puts and two TaskDones: UnfinishedTasks must be 0, not {unfinished}. {Rules.HarmlessReads}");
                log.Call("Join()", Queue, () => queue.Join());
            });
    }

    [Test]
    public void GetConsumingEnumerable_removes_each_item_only_as_it_is_enumerated()
    {
        var queue = new WorkQueue<int>();
        queue.Put(1);
        queue.Put(2);
        queue.Put(3);
        var consumer = LearnerThread.Start("consumer", () =>
        {
            using IEnumerator<int> items = queue.GetConsumingEnumerable().GetEnumerator();
            int before = queue.Count;
            items.MoveNext().ShouldBeTrue();
            int first = items.Current;
            int afterOne = queue.Count;
            return (before, first, afterOne);
        });
        var (before, first, afterOne) = ((int, int, int))consumer.ShouldFinish(
            "The consuming enumeration waited although items were there.",
            diagnosisIfThrew: "GetConsumingEnumerable failed on a queue with items.")!;
        before.ShouldBe(3, "Asking for the enumeration takes nothing yet: items are removed as they are enumerated.");
        first.ShouldBe(1, "The enumeration starts with the oldest item.");
        afterOne.ShouldBe(2, "Enumerating one item removes exactly that item, not every item at once: the others stay for other consumers.");
    }

    [Test]
    public void GetConsumingEnumerable_does_not_hold_the_lock_while_the_caller_processes_an_item()
    {
        var queue = new WorkQueue<int>();
        queue.Put(1);
        using var processing = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        var consumer = LearnerThread.Start("consumer", () =>
        {
            foreach (int item in queue.GetConsumingEnumerable())
            {
                processing.Set();
                done.Wait(Deadlines.Hang);
                return item;
            }

            return -1;
        });
        processing.ShouldOpen("The consuming enumeration never yielded the item that was there.");

        // While the consumer works on its item, the queue must serve everyone else.
        var others = LearnerThread.Start("producer", () =>
        {
            queue.Put(2);
            return queue.Count;
        });
        bool served = others.TryJoin(Deadlines.Hang / 2);
        done.Set();
        if (!served)
        {
            Assert.Fail($"Put and Count waited while a consumer was processing an item from GetConsumingEnumerable. {Rules.NoYieldInsideTheLock}");
        }

        others.ShouldFinish(Rules.NoYieldInsideTheLock).ShouldBe(1);
        consumer.ShouldFinish("The consumer never finished its item.").ShouldBe(1);
    }

    [Test]
    public void Cancelling_a_consuming_enumeration_leaves_the_remaining_items()
    {
        var queue = new WorkQueue<int>();
        queue.Put(1);
        queue.Put(2);
        queue.Put(3);
        using var cancel = new CancellationTokenSource();
        using var gotOne = new ManualResetEventSlim();
        using var goOn = new ManualResetEventSlim();
        var consumer = LearnerThread.Start("consumer", () =>
        {
            var seen = new List<int>();
            foreach (int item in queue.GetConsumingEnumerable(cancel.Token))
            {
                seen.Add(item);
                gotOne.Set();
                goOn.Wait(Deadlines.Hang);
            }

            return seen;
        });
        gotOne.ShouldOpen("The consuming enumeration never yielded the first item.");

        // Cancel() runs the queue's callback, which needs the lock: it must be free while the consumer works.
        var canceller = LearnerThread.Start("canceller", cancel.Cancel);
        bool cancelled = canceller.TryJoin(Deadlines.Hang / 2);
        goOn.Set();
        if (!cancelled)
        {
            Assert.Fail(
                "CancellationTokenSource.Cancel() waited while the consumer was processing an item: its callback needs the queue's " +
                $"lock, and the enumeration held it. {Rules.NoYieldInsideTheLock}");
        }

        canceller.ShouldFinish("Cancel() never returned.", diagnosisIfThrew: "CancellationTokenSource.Cancel() ran the queue's callback, and it threw.");
        consumer.ShouldThrow<OperationCanceledException>(
                "The consuming enumeration ignored its cancelled token.",
                $"The enumeration was cancelled with items left: its next step must throw OperationCanceledException, not go on nor end quietly. {Rules.CancellationIsNotATimeout}")
            .ShouldCarry("GetConsumingEnumerable", cancel.Token);
        queue.Count.ShouldBe(2, $"Cancelling the enumeration must leave the items it had not yielded in the queue. {Rules.NoTrace}");
        queue.Take().ShouldBe(2);
        queue.Take().ShouldBe(3);
    }

    [Test]
    public void Shutdown_returns_only_after_the_last_item_was_processed()
    {
        var queue = new WorkQueue<int>();
        using var inHandler = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int finished = 0;
        var pool = new WorkerPool<int>(queue, 2, _ =>
        {
            inHandler.Set();
            release.Wait(Deadlines.Hang);
            Interlocked.Increment(ref finished);
        });
        queue.Put(1);
        inHandler.ShouldOpen("The pool never processed the item that was put.");

        var shutdown = LearnerThread.Start("shutdown", pool.Shutdown);
        shutdown.ShouldBlock(
            "Shutdown returned while a worker was still processing an item: after completing the queue it must Join every " +
            "worker thread, so that when it returns every item has been processed.");
        release.Set();
        shutdown.ShouldFinish(ShutdownStuck);
        Volatile.Read(ref finished).ShouldBe(1, "When Shutdown returns, the last handler has returned.");
    }

    [Test]
    public void Dispose_completes_the_queue_and_waits_for_the_workers()
    {
        var queue = new WorkQueue<int>();
        using var inHandler = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int finished = 0;
        var pool = new WorkerPool<int>(queue, 1, _ =>
        {
            inHandler.Set();
            release.Wait(Deadlines.Hang);
            Interlocked.Increment(ref finished);
            throw new FormatException("bad item");
        });
        queue.Put(1);
        inHandler.ShouldOpen("The pool never processed the item that was put.");

        var dispose = LearnerThread.Start("dispose", pool.Dispose);
        dispose.ShouldBlock("Dispose returned while a worker was still processing an item: like Shutdown, it must wait for the workers.");
        release.Set();
        dispose.ShouldFinish($"Dispose never returned. {ShutdownStuck}", diagnosisIfThrew: "Dispose must not throw the handler's exceptions: Shutdown reports them.");
        Volatile.Read(ref finished).ShouldBe(1, "When Dispose returns, the last handler has returned.");
        queue.IsAddingCompleted.ShouldBeTrue("Dispose completes the queue, like Shutdown.");
    }

    [Test]
    public void A_disposed_pool_can_be_disposed_again_and_shut_down_and_its_queue_refuses_items()
    {
        var queue = new WorkQueue<int>();
        var pool = new WorkerPool<int>(queue, 2, item =>
        {
            if (item == 1)
            {
                throw new FormatException("bad item 1");
            }
        });
        queue.Put(1);
        queue.Put(2);
        LearnerThread.Start("dispose", pool.Dispose).ShouldFinish($"Dispose never returned. {ShutdownStuck}", diagnosisIfThrew: "Dispose must not throw.");
        LearnerThread.Start("dispose-again", pool.Dispose).ShouldFinish(
            "A second Dispose never returned: it must wait for nothing new.",
            diagnosisIfThrew: "Disposing twice must be harmless: Dispose must not throw, the second time either (and calling Complete() again must do nothing).");
        LearnerThread.Start("shutdown", pool.Shutdown)
            .ShouldThrow<AggregateException>(
                "Shutdown after Dispose never returned: the workers are gone, there is nothing left to wait for.",
                "Shutdown after Dispose reports the handler's exceptions, as a second Shutdown does.")
            .InnerExceptions.Select(e => e.Message).ShouldBe(["bad item 1"]);
        Expect.Throws<InvalidOperationException>(
            () => queue.Put(3),
            $"The pool completed its queue when it was disposed. {PutAfterComplete}");
    }

    [Test]
    public void Handler_exceptions_thrown_at_the_same_time_are_all_reported()
    {
        // Four workers whose handler throws for every item: their catch blocks add to the list of exceptions at the
        // same time, over and over, so the list must be guarded by a lock (a List<T> loses additions otherwise).
        const int Workers = 4;
        const int Items = 200;
        var queue = new WorkQueue<int>();
        for (int i = 0; i < Items; i++)
        {
            queue.Put(i);
        }

        var pool = new WorkerPool<int>(queue, Workers, item => throw new FormatException($"bad item {item}"));
        var error = LearnerThread.Start("shutdown", pool.Shutdown).ShouldThrow<AggregateException>(
            ShutdownStuck,
            "Shutdown must throw an AggregateException holding every exception the handler threw.");
        queue.Count.ShouldBe(0, $"Shutdown returns once the workers have drained the queue. {ItemsOutliveComplete}");
        error.InnerExceptions.Count.ShouldBe(
            Items,
            "Exceptions thrown by several handlers at once were lost: the workers add to the shared list together, so every " +
            "read and write of it goes under one lock (List<T> is not thread-safe).");
    }

    /// <summary>Calls TaskDone for an item that was put and taken, on the test's thread.</summary>
    private static void FinishTask<T>(WorkQueue<T> queue)
    {
        try
        {
            queue.TaskDone();
        }
        catch (InvalidOperationException ex)
        {
            Assert.Fail(
                $"TaskDone threw (\"{ex.Message}\") for an item that was put and taken but not reported done yet: the count of " +
                $"unfinished tasks went wrong. {JoinWaitsForTaskDone}");
        }
    }

    /// <summary>Takes an item that was put before Complete(), on the test's thread (it is there: no wait).</summary>
    private static T TakeLeftover<T>(WorkQueue<T> queue)
    {
        try
        {
            return queue.Take();
        }
        catch (InvalidOperationException ex)
        {
            Assert.Fail($"Take threw (\"{ex.Message}\") although an item put before Complete() was still in the queue. {ItemsOutliveComplete}");
            throw;
        }
    }

    /// <summary>
    /// Requires <paramref name="waiter"/>, blocked in a take on an empty queue when Complete() was called, to finish.
    /// If it stays blocked, tells the two causes apart: the probe (another taker, blocked since before Complete()) is
    /// cancelled, which makes the queue wake every waiter once more. A waiter that then notices completion was never
    /// woken by Complete(); one that goes back to sleep does not look at completion after waking.
    /// </summary>
    private static void ShouldLearnTheQueueIsComplete(LearnerThread waiter, LearnerThread probe, CancellationTokenSource cancelProbe) =>
        ShouldNoticeCompletion(waiter, probe, cancelProbe, Rules.CompletionIsPartOfTheCondition);

    /// <summary>
    /// Requires <paramref name="waiter"/>, blocked (taking from an empty queue, or putting into a full one) when
    /// Complete() was called, to finish. If it stays blocked, tells the two causes apart, as
    /// <see cref="ShouldLearnTheQueueIsComplete"/> does; <paramref name="ifNotRechecked"/> is the rule when waking it is
    /// not enough.
    /// </summary>
    private static void ShouldNoticeCompletion(LearnerThread waiter, LearnerThread probe, CancellationTokenSource cancelProbe, string ifNotRechecked)
    {
        if (waiter.TryJoin(Deadlines.Hang))
        {
            return;
        }

        if (probe.IsFinished)
        {
            Assert.Fail($"{waiter.Name} stayed blocked after Complete(). {CompleteMustWake} (Or it does, and the woken thread does not look at completion again: {ifNotRechecked})");
        }

        Cancellation.CancelOnOwnThread(cancelProbe);
        probe.TryJoin();
        Assert.Fail(waiter.TryJoin(Deadlines.Hang)
            ? $"{waiter.Name} stayed blocked after Complete(), and saw that the queue was complete only when another waiter's " +
              $"cancellation woke it. {CompleteMustWake}"
            : $"{waiter.Name} stayed blocked after Complete(), and after one more wake-up (another waiter's cancellation): " +
              $"waking it is not enough. {ifNotRechecked}");
    }
}
