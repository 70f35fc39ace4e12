using System.Diagnostics;

namespace ConcurrencyKata.Tests.WorkQueue;

/// <summary>
/// Step 3: blocking, bounds, timeouts and cancellation. Every blocking call runs on its own
/// <see cref="LearnerThread"/>; a test proves a call blocks by watching its thread park (never by sleeping), then
/// unblocks it and requires it to finish before a deadline. See exercises/01-work-queue/README.md.
/// </summary>
[Step(3)]
[TestFixture]
public sealed class Step3_BlockingAndBounded : ConcurrencyTest
{
    private const string TakeMustWait = "Take must wait while the queue is empty (Monitor.Wait inside a while loop).";
    private const string PutMustWait = "Put must wait while Count == Capacity (Monitor.Wait inside a while loop).";
    private const string TakeLostWakeUp = "Lost wake-up: Take was never woken after Put — do you PulseAll after adding an item?";
    private const string PutLostWakeUp = "Lost wake-up: Put was never woken after Take made room — do you PulseAll after removing an item?";
    private const string CancelIgnored =
        "The blocked call ignores its CancellationToken. Register a callback (token.Register) that takes the lock and PulseAll's, " +
        "and check token.ThrowIfCancellationRequested() each time round the wait loop.";

    [Test]
    public void Take_blocks_until_an_item_is_put()
    {
        var queue = new WorkQueue<int>();

        // Twice on the same instance: the first wake-up must not break the second.
        for (int round = 1; round <= 2; round++)
        {
            var taker = LearnerThread.Start($"taker-{round}", () => queue.Take());
            taker.ShouldBlock($"Take returned on an empty queue. {TakeMustWait}");
            queue.Put(40 + round);
            taker.ShouldFinish(TakeLostWakeUp).ShouldBe(40 + round, "Take returns the item that was put.");
        }
    }

    [Test]
    public void Put_blocks_while_the_queue_is_full()
    {
        var queue = new WorkQueue<int>(2);
        queue.PutWhileThereIsRoom(1, 2);

        var putter = LearnerThread.Start("putter", () => queue.Put(3));
        putter.ShouldBlock($"Put returned although the queue was full (2 of 2). {PutMustWait}");
        queue.Count.ShouldBe(2, "A blocked Put has not added its item yet.");

        queue.Take().ShouldBe(1);
        putter.ShouldFinish(PutLostWakeUp);
        queue.Take().ShouldBe(2);
        queue.Take().ShouldBe(3, "The item of the Put that waited comes out last, after the items that were there first.");
    }

    [Test]
    public void Each_blocked_taker_wakes_with_its_own_item()
    {
        var queue = new WorkQueue<int>();
        var takers = Enumerable.Range(1, 3).Select(i => LearnerThread.Start($"taker-{i}", () => queue.Take())).ToList();
        takers.ForEach(t => t.ShouldBlock($"Take returned on an empty queue. {TakeMustWait}"));

        queue.Put(10);
        queue.Put(20);
        queue.Put(30);

        var got = takers.Select(t => (int)t.ShouldFinish(TakeLostWakeUp)!).Order().ToArray();
        got.ShouldBe([10, 20, 30], "Three blocked takers and three items: each taker gets exactly one item, none twice.");
    }

    [Test]
    public void A_woken_taker_checks_again_before_taking()
    {
        // Two takers wait; one item arrives. PulseAll wakes both. The first takes the item; the second must find
        // the queue empty again and go back to waiting. With `if (empty) Wait` instead of `while (empty) Wait`,
        // the second one runs on and takes from an empty queue.
        var queue = new WorkQueue<int>();
        using var cancelFirst = new CancellationTokenSource();
        using var cancelSecond = new CancellationTokenSource();
        var first = LearnerThread.Start("taker-1", () => queue.Take(cancelFirst.Token));
        var second = LearnerThread.Start("taker-2", () => queue.Take(cancelSecond.Token));
        first.ShouldBlock($"Take returned on an empty queue. {TakeMustWait}");
        second.ShouldBlock($"Take returned on an empty queue. {TakeMustWait}");

        queue.Put(7);
        var clock = Stopwatch.StartNew();
        while (!first.IsFinished && !second.IsFinished)
        {
            if (clock.Elapsed > Deadlines.Hang)
            {
                Assert.Fail($"Neither blocked taker woke after Put. {TakeLostWakeUp}");
            }

            first.TryJoin(TimeSpan.FromMilliseconds(5));
        }

        (LearnerThread winner, LearnerThread other, CancellationTokenSource cancelOther) =
            first.IsFinished ? (first, second, cancelSecond) : (second, first, cancelFirst);
        winner.ShouldFinish(TakeLostWakeUp).ShouldBe(7);

        // Give a wrongly woken taker the chance to run on. Too short a pause can only miss the bug, because the
        // other taker is then cancelled: whatever it does besides throwing OperationCanceledException is reported.
        Settle.OneSided();
        Cancellation.CancelOnOwnThread(cancelOther);
        other.ShouldThrow<OperationCanceledException>(
            CancelIgnored,
            "Take went on although the queue was empty again: another taker had already taken the only item. " +
            "Is Monitor.Wait inside a `while` loop that re-checks the condition, not an `if`?");
        queue.Count.ShouldBe(0);
    }

    [Test]
    public void Producers_and_consumers_on_a_queue_of_one_never_lose_a_wake_up()
    {
        // Capacity 1 and several producers and consumers: at any moment both kinds wait on the same monitor. A
        // Pulse (wake one) can then wake the wrong kind: it goes back to sleep, and nobody wakes the right one.
        const int PerThread = 3_000;
        int pairs = Concurrently.Contenders / 2;
        Stress.Repeat(round =>
        {
            var queue = new WorkQueue<int>(1);
            long sum = 0;
            Concurrently.Run(
                [
                    ("producer", pairs, _ =>
                    {
                        for (int i = 1; i <= PerThread; i++)
                        {
                            queue.Put(i);
                        }
                    }),
                    ("consumer", pairs, _ =>
                    {
                        for (int i = 0; i < PerThread; i++)
                        {
                            Interlocked.Add(ref sum, queue.Take());
                        }
                    }),
                ],
                "Lost wake-up: producers wait for room and consumers wait for items, on one monitor. Monitor.Pulse wakes just one " +
                "waiter, possibly of the wrong kind, which goes back to sleep; the one that could proceed is never woken. " +
                "Use Monitor.PulseAll after every Put and every Take.",
                Deadlines.Hang);

            sum.ShouldBe(pairs * (PerThread * (PerThread + 1L) / 2), $"Round {round}: every item put was taken exactly once.");
            queue.Count.ShouldBe(0);
        });
    }

    [Test]
    public void TryTake_gives_up_after_its_timeout()
    {
        var queue = new WorkQueue<int>();
        TimeSpan timeout = TimeSpan.FromMilliseconds(100);
        var taker = LearnerThread.Start("taker", () =>
        {
            var clock = Stopwatch.StartNew();
            bool got = queue.TryTake(out _, timeout);
            return (got, clock.Elapsed);
        });

        var (gotItem, elapsed) = ((bool, TimeSpan))taker.ShouldFinish(
            "TryTake(100 ms) on an empty queue never returned: it must give up after its timeout (Monitor.Wait(lock, remaining)).")!;
        gotItem.ShouldBeFalse("TryTake returns false when no item came before the timeout.");
        elapsed.ShouldBeGreaterThanOrEqualTo(
            timeout * 0.6,
            "TryTake returned false long before its timeout: it must wait (up to the timeout) for an item to arrive.");
    }

    [Test]
    public void TryTake_returns_an_item_that_arrives_within_its_timeout()
    {
        var queue = new WorkQueue<string>();
        var taker = LearnerThread.Start("taker", () => queue.TryTake(out string? item, TimeSpan.FromMinutes(5)) ? item : "<false>");
        taker.ShouldBlock($"TryTake returned on an empty queue before its timeout. {TakeMustWait}");
        queue.Put("late");
        taker.ShouldFinish(TakeLostWakeUp).ShouldBe("late", "TryTake returns true and the item when one arrives in time.");
    }

    [Test]
    public void TryPut_gives_up_after_its_timeout_and_adds_nothing()
    {
        var queue = new WorkQueue<int>(1);
        queue.PutWhileThereIsRoom(1);
        TimeSpan timeout = TimeSpan.FromMilliseconds(100);
        var putter = LearnerThread.Start("putter", () =>
        {
            var clock = Stopwatch.StartNew();
            bool added = queue.TryPut(2, timeout);
            return (added, clock.Elapsed);
        });

        var (added, elapsed) = ((bool, TimeSpan))putter.ShouldFinish(
            "TryPut(100 ms) on a full queue never returned: it must give up after its timeout.")!;
        added.ShouldBeFalse("TryPut returns false when the queue stayed full until the timeout.");
        elapsed.ShouldBeGreaterThanOrEqualTo(timeout * 0.6, "TryPut returned false long before its timeout: it must wait for room first.");
        queue.Count.ShouldBe(1, "A TryPut that timed out must not add its item.");
        queue.Take().ShouldBe(1);
    }

    [Test]
    public void A_zero_timeout_never_waits()
    {
        var queue = new WorkQueue<int>(1);
        var caller = LearnerThread.Start("caller", () =>
        {
            bool tookFromEmpty = queue.TryTake(out _, TimeSpan.Zero);
            bool putIntoRoom = queue.TryPut(5, TimeSpan.Zero);
            bool putIntoFull = queue.TryPut(6, TimeSpan.Zero);
            bool tookFromFull = queue.TryTake(out int item, TimeSpan.Zero);
            return (tookFromEmpty, putIntoRoom, putIntoFull, tookFromFull, item);
        });

        var outcome = ((bool, bool, bool, bool, int))caller.ShouldFinish(
            "TimeSpan.Zero means 'do not wait at all', not 'wait forever': Monitor.Wait(lock, 0) only checks and returns.")!;
        outcome.ShouldBe((false, true, false, true, 5), "TryTake/TryPut with TimeSpan.Zero succeed only if they can do so at once.");
    }

    [Test]
    public void A_negative_timeout_is_rejected_and_the_queue_stays_usable()
    {
        var queue = new WorkQueue<int>(2);
        queue.PutWhileThereIsRoom(1);

        Expect.Throws<ArgumentOutOfRangeException>(() => queue.TryTake(out _, TimeSpan.FromMilliseconds(-5)),
            "A negative timeout (other than Timeout.InfiniteTimeSpan) is a mistake: throw ArgumentOutOfRangeException.")
            .ParamName.ShouldBe("timeout");
        Expect.Throws<ArgumentOutOfRangeException>(() => queue.TryPut(2, TimeSpan.FromMilliseconds(-2)),
            "A negative timeout (other than Timeout.InfiniteTimeSpan) is a mistake: throw ArgumentOutOfRangeException.")
            .ParamName.ShouldBe("timeout");
        Expect.Throws<ArgumentOutOfRangeException>(() => queue.TryTake(out _, TimeSpan.MaxValue),
            "A timeout longer than int.MaxValue milliseconds cannot be waited for: throw ArgumentOutOfRangeException.")
            .ParamName.ShouldBe("timeout");

        queue.Count.ShouldBe(1, "A rejected call changes nothing.");
        var caller = LearnerThread.Start("caller", () =>
        {
            queue.TryPut(2, Timeout.InfiniteTimeSpan).ShouldBeTrue("Timeout.InfiniteTimeSpan means 'wait as long as it takes'; there is room, so it succeeds.");
            return queue.TryTake(out int first, Timeout.InfiniteTimeSpan) ? first : -1;
        });
        caller.ShouldFinish("The queue stopped working after rejecting a bad timeout: validate before taking the lock or changing state.")
            .ShouldBe(1);
        queue.Take().ShouldBe(2);
    }

    [Test]
    public void Cancelling_a_blocked_Take_throws_OperationCanceledException_and_takes_nothing()
    {
        var queue = new WorkQueue<int>();
        using var cancel = new CancellationTokenSource();
        var taker = LearnerThread.Start("taker", () => queue.Take(cancel.Token));
        taker.ShouldBlock($"Take returned on an empty queue. {TakeMustWait}");

        Cancellation.CancelOnOwnThread(cancel);
        taker.ShouldThrow<OperationCanceledException>(CancelIgnored, "A cancelled Take must throw OperationCanceledException.");

        queue.Put(1);
        queue.Count.ShouldBe(1, "The cancelled Take must not have taken anything, nor leave anything behind.");
        queue.Take().ShouldBe(1, "The queue works normally after a cancelled Take.");
    }

    [Test]
    public void Cancelling_a_blocked_Put_throws_and_does_not_add_the_item()
    {
        var queue = new WorkQueue<int>(1);
        queue.PutWhileThereIsRoom(1);
        using var cancel = new CancellationTokenSource();
        var putter = LearnerThread.Start("putter", () => queue.Put(2, cancel.Token));
        putter.ShouldBlock($"Put returned although the queue was full. {PutMustWait}");

        Cancellation.CancelOnOwnThread(cancel);
        putter.ShouldThrow<OperationCanceledException>(CancelIgnored, "A cancelled Put must throw OperationCanceledException.");

        queue.Count.ShouldBe(1, "A cancelled Put must not add its item.");
        queue.Take().ShouldBe(1);
        queue.TryTake(out _, TimeSpan.Zero).ShouldBeFalse("The cancelled Put's item must never appear in the queue.");
    }

    [Test]
    public void Cancelling_one_waiter_leaves_the_others_waiting()
    {
        var queue = new WorkQueue<int>();
        using var cancel = new CancellationTokenSource();
        var cancelled = LearnerThread.Start("cancelled-taker", () => queue.Take(cancel.Token));
        var patient = LearnerThread.Start("patient-taker", () => queue.Take());
        cancelled.ShouldBlock($"Take returned on an empty queue. {TakeMustWait}");
        patient.ShouldBlock($"Take returned on an empty queue. {TakeMustWait}");

        Cancellation.CancelOnOwnThread(cancel);
        cancelled.ShouldThrow<OperationCanceledException>(CancelIgnored, "A cancelled Take must throw OperationCanceledException.");

        // The wake-up that let the cancelled taker leave also woke the patient one; it must go back to waiting.
        patient.ShouldBlock(
            "Take returned after another taker was cancelled, although no item was put: a woken waiter must re-check its " +
            "condition in a while loop, and only the cancelled token's owner may leave.");
        queue.Put(3);
        patient.ShouldFinish(TakeLostWakeUp).ShouldBe(3);
    }

    [Test]
    public void A_token_cancelled_before_the_call_throws_at_once_and_changes_nothing()
    {
        var queue = new WorkQueue<int>(1);
        queue.PutWhileThereIsRoom(1);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        var caller = LearnerThread.Start("caller", () =>
        {
            Expect.Throws<OperationCanceledException>(() => queue.Take(cancel.Token), "Take with a cancelled token throws, even when an item is there.");
            Expect.Throws<OperationCanceledException>(() => queue.Put(2, cancel.Token), "Put with a cancelled token throws.");
        });
        caller.ShouldFinish("A call with an already-cancelled token blocked: check token.ThrowIfCancellationRequested() before waiting.");
        queue.Count.ShouldBe(1, "Calls with a cancelled token change nothing.");
        queue.Take().ShouldBe(1);
    }
}
