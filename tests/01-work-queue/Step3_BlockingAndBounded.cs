using System.Diagnostics;
using System.Runtime.CompilerServices;

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
    private const string TakeLostWakeUp =
        "Lost wake-up: Take was never woken after Put — do you PulseAll after adding an item, on the one private lock object for " +
        "the whole queue (the object Take waits on)?";
    private const string PutLostWakeUp =
        "Lost wake-up: Put was never woken after Take made room — do you PulseAll after removing an item, on the one private lock " +
        "object for the whole queue (the object Put waits on)?";
    private const string CancelIgnored =
        "The blocked call ignores its CancellationToken. Register a callback (token.Register) that takes the lock and PulseAll's, " +
        "and check token.ThrowIfCancellationRequested() each time round the wait loop.";
    private const string CancelledMustThrow =
        $"{Rules.CancellationIsNotATimeout} {Rules.NoTrace}";
    private const string MustGiveUp =
        "A timed TryTake or TryPut waits at most its timeout: it must give up after its timeout (Monitor.Wait(_sync, remaining), " +
        "and return false once nothing is left of it).";
    private const string StillFull =
        $"The queue was still full: a TryPut that went on after its wait without checking again that there is room. {Rules.WhileNotIf}";

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

        var got = takers.Select(t => (int)t.ShouldFinish(TakeLostWakeUp, diagnosisIfThrew: Rules.WhileNotIf)!).Order().ToArray();
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
        winner.ShouldFinish(TakeLostWakeUp, diagnosisIfThrew: Rules.WhileNotIf).ShouldBe(7);

        // Give a wrongly woken taker the chance to run on. Too short a pause can only miss the bug, because the
        // other taker is then cancelled: whatever it does besides throwing OperationCanceledException is reported.
        Settle.OneSided();
        if (other.IsFinished)
        {
            other.ShouldThrow<OperationCanceledException>(
                CancelIgnored,
                $"Take went on although the queue was empty again: another taker had already taken the only item. {Rules.WhileNotIf}");
        }

        Cancellation.CancelOnOwnThread(cancelOther);
        other.ShouldThrow<OperationCanceledException>(CancelIgnored, $"The second taker was cancelled. {CancelledMustThrow}")
            .ShouldCarry("Take", cancelOther.Token);
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
                "Lost wake-up: producers wait for room and consumers wait for items, on one monitor, and each side must wake the " +
                "other: a Take that does not PulseAll leaves the putters asleep (Lost wake-up: Put was never woken after Take made " +
                "room), a Put that does not leaves the takers asleep (Lost wake-up: Take was never woken after Put), and Monitor.Pulse " +
                "wakes just one waiter, possibly of the wrong kind, which goes back to sleep while the one that could proceed is never " +
                "woken. Use Monitor.PulseAll after every Put and every Take.",
                Deadlines.Hang,
                diagnosisIfThrew: Rules.WhileNotIf);

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
        added.ShouldBeFalse($"TryPut returns false when the queue stayed full until the timeout. {StillFull}");
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
        WakeForSomeoneElse(taker, token => LearnerThread.Start("other-taker", () => queue.Take(token)));

        Cancellation.CancelOnOwnThread(cancel);
        taker.ShouldThrow<OperationCanceledException>(CancelIgnored, $"A cancelled Take must throw OperationCanceledException. {CancelledMustThrow}")
            .ShouldCarry("Take", cancel.Token);

        queue.Put(1);
        queue.Count.ShouldBe(1, $"The cancelled Take must not have taken anything, nor leave anything behind. {Rules.NoTrace}");
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
        WakeForSomeoneElse(putter, token => LearnerThread.Start("other-putter", () => queue.Put(9, token)));

        Cancellation.CancelOnOwnThread(cancel);
        putter.ShouldThrow<OperationCanceledException>(CancelIgnored, $"A cancelled Put must throw OperationCanceledException. {CancelledMustThrow}")
            .ShouldCarry("Put", cancel.Token);

        queue.Count.ShouldBe(1, $"A cancelled Put must not add its item. {Rules.NoTrace}");
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
        cancelled.TryJoin();

        // The wake-up that let the cancelled taker leave also woke the patient one; it must go back to waiting.
        patient.ShouldBlock(
            "Take returned after another taker was cancelled, although no item was put: only the cancelled token's owner may " +
            $"leave. {Rules.WhileNotIf}");
        cancelled.ShouldThrow<OperationCanceledException>(CancelIgnored, $"A cancelled Take must throw OperationCanceledException. {CancelledMustThrow}")
            .ShouldCarry("Take", cancel.Token);
        queue.Put(3);
        patient.ShouldFinish(TakeLostWakeUp).ShouldBe(3);
    }

    [Test]
    public void A_token_cancelled_before_the_call_throws_at_once_and_changes_nothing()
    {
        // One item and room for one more: every call below could be served at once, so only the token stops it.
        var queue = new WorkQueue<int>(2);
        queue.PutWhileThereIsRoom(1);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        CancellationToken token = cancel.Token;
        (string Call, Action Body)[] calls =
        [
            ("Take", () => queue.Take(token)),
            ("TryTake(TimeSpan.Zero)", () => queue.TryTake(out _, TimeSpan.Zero, token)),
            ("TryTake(5 min)", () => queue.TryTake(out _, TimeSpan.FromMinutes(5), token)),
            ("Put", () => queue.Put(2, token)),
            ("TryPut(TimeSpan.Zero)", () => queue.TryPut(2, TimeSpan.Zero, token)),
            ("TryPut(5 min)", () => queue.TryPut(2, TimeSpan.FromMinutes(5), token)),
        ];

        foreach ((string call, Action body) in calls)
        {
            var caller = LearnerThread.Start("caller", body);
            var ex = caller.ShouldThrow<OperationCanceledException>(
                $"{call} with an already-cancelled token blocked: check token.ThrowIfCancellationRequested() before anything else.",
                $"{call} with a token cancelled before the call must throw OperationCanceledException, even though the queue could " +
                $"serve it at once: the caller has given up. {Rules.NoTrace}");
            ex.ShouldCarry(call, token);
            queue.Count.ShouldBe(1, $"After {call} with a cancelled token the queue must hold what it held before (1 item). {Rules.NoTrace}");
        }

        queue.Take().ShouldBe(1, $"Calls with a cancelled token change nothing. {Rules.NoTrace}");
        queue.TryTake(out _, TimeSpan.Zero).ShouldBeFalse($"No cancelled Put may have added its item. {Rules.NoTrace}");
    }

    [Test]
    public void A_blocked_TryTake_or_TryPut_that_is_cancelled_throws_instead_of_returning_false()
    {
        var queue = new WorkQueue<int>(1);
        using var cancelTake = new CancellationTokenSource();
        var taker = LearnerThread.Start("taker", () => queue.TryTake(out int item, TimeSpan.FromMinutes(5), cancelTake.Token) ? item : -1);
        taker.ShouldBlock($"TryTake(5 min) returned on an empty queue. {TakeMustWait}");
        WakeForSomeoneElse(taker, token => LearnerThread.Start("other-taker", () => queue.Take(token)));
        Cancellation.CancelOnOwnThread(cancelTake);
        taker.ShouldThrow<OperationCanceledException>(CancelIgnored, $"A cancelled TryTake must throw. {CancelledMustThrow}")
            .ShouldCarry("TryTake", cancelTake.Token);

        queue.PutWhileThereIsRoom(1);
        using var cancelPut = new CancellationTokenSource();
        var putter = LearnerThread.Start("putter", () => queue.TryPut(2, TimeSpan.FromMinutes(5), cancelPut.Token));
        putter.ShouldBlock($"TryPut(5 min) returned although the queue was full. {PutMustWait}");
        WakeForSomeoneElse(putter, token => LearnerThread.Start("other-putter", () => queue.Put(9, token)));
        Cancellation.CancelOnOwnThread(cancelPut);
        putter.ShouldThrow<OperationCanceledException>(CancelIgnored, $"A cancelled TryPut must throw. {CancelledMustThrow}")
            .ShouldCarry("TryPut", cancelPut.Token);

        queue.Take().ShouldBe(1);
        queue.TryTake(out _, TimeSpan.Zero).ShouldBeFalse($"The cancelled TryPut's item must never appear in the queue. {Rules.NoTrace}");
    }

    [Test]
    public void A_timeout_is_not_a_cancellation()
    {
        // A token that can be cancelled but is not: the timeout ends the call, and says so by returning false.
        var queue = new WorkQueue<int>(1);
        using var live = new CancellationTokenSource();
        var taker = LearnerThread.Start("taker", () => queue.TryTake(out _, TimeSpan.FromMilliseconds(20), live.Token));
        taker.ShouldFinish(
                "TryTake(20 ms) with a live token never returned: it must give up after its timeout.",
                diagnosisIfThrew: "A timeout is reported by returning false; OperationCanceledException means the caller's token was cancelled.")
            .ShouldBe(false);
        queue.PutWhileThereIsRoom(1);
        var putter = LearnerThread.Start("putter", () => queue.TryPut(2, TimeSpan.FromMilliseconds(20), live.Token));
        putter.ShouldFinish(
                "TryPut(20 ms) with a live token never returned: it must give up after its timeout.",
                diagnosisIfThrew: "A timeout is reported by returning false; OperationCanceledException means the caller's token was cancelled.")
            .ShouldBe(false, StillFull);
        queue.Count.ShouldBe(1, "A TryPut that timed out adds nothing.");
    }

    [Test]
    public void A_TryPut_cancelled_before_or_during_its_wait_leaves_the_queue_exact()
    {
        var queue = new WorkQueue<int>(2);
        queue.PutWhileThereIsRoom(1, 2);
        using var already = new CancellationTokenSource();
        already.Cancel();
        LearnerThread.Start("putter-1", () => queue.TryPut(3, TimeSpan.FromMinutes(5), already.Token))
            .ShouldThrow<OperationCanceledException>(
                "TryPut with an already-cancelled token blocked: check the token before waiting.",
                $"TryPut with a cancelled token must throw. {CancelledMustThrow}")
            .ShouldCarry("TryPut", already.Token);

        using var later = new CancellationTokenSource();
        var blocked = LearnerThread.Start("putter-2", () => queue.TryPut(4, TimeSpan.FromMinutes(5), later.Token));
        blocked.ShouldBlock($"TryPut returned although the queue was full (2 of 2). {PutMustWait}");
        WakeForSomeoneElse(blocked, token => LearnerThread.Start("other-putter", () => queue.Put(9, token)));
        Cancellation.CancelOnOwnThread(later);
        blocked.ShouldThrow<OperationCanceledException>(CancelIgnored, $"A cancelled TryPut must throw. {CancelledMustThrow}")
            .ShouldCarry("TryPut", later.Token);

        // Still exactly full: a new Put waits, and the queue drains to the two original items and the new one, in order.
        queue.Count.ShouldBe(2, $"Two cancelled TryPuts added nothing. {Rules.NoTrace}");
        var putter = LearnerThread.Start("putter-3", () => queue.Put(5));
        putter.ShouldBlock($"Put returned although the queue was still full: a cancelled TryPut left a place taken or freed. {Rules.NoTrace}");
        queue.Take().ShouldBe(1);
        putter.ShouldFinish(PutLostWakeUp);
        queue.Take().ShouldBe(2);
        queue.Take().ShouldBe(5, $"Neither cancelled item may appear. {Rules.NoTrace}");
        queue.TryTake(out _, TimeSpan.Zero).ShouldBeFalse($"Neither cancelled item may appear. {Rules.NoTrace}");
    }

    [Test]
    public void Cancelling_at_the_moment_a_waiter_wakes_up_does_not_deadlock()
    {
        // The dangerous moment: the token is being cancelled (its callback has started, and needs the lock) while the
        // waiter has just woken up with an item, holds the lock, and disposes its registration. Disposing waits for a
        // running callback; if the waiter does it inside the lock, the two wait for each other forever.
        //
        // The test makes that moment happen every time. A registration made with token.Register runs its callback in
        // the execution context of the thread that registered; switching to it fires the change handler of an
        // AsyncLocal that the taker set. That handler runs on the cancelling thread, after the callback has started
        // (CancellationTokenSource counts it as running) and before its body: there the test puts an item, which wakes
        // the taker, and waits until the taker has taken it and let go of the lock. A taker that disposes inside the
        // lock never lets go: the test's own Count then waits for the lock too, and Cancel() never returns.
        // (A callback registered with token.UnsafeRegister runs in no captured context, so there is no such moment to
        // use: the test then only checks the ordinary outcome.)
        var queue = new WorkQueue<int>();
        using var cancel = new CancellationTokenSource();
        bool itemPut = false;
        var marker = new AsyncLocal<string?>(change =>
        {
            if (change.ThreadContextChanged && change.CurrentValue == "taker" && Thread.CurrentThread.Name == "canceller" && !itemPut)
            {
                itemPut = true;
                queue.Put(7);
                var clock = Stopwatch.StartNew();

                // A correct queue lets the taker take the item (or give up because of the token, leaving the item):
                // either way, Count answers. One second is only the end of the chance given to a wrong one.
                while (queue.Count > 0 && clock.Elapsed < TimeSpan.FromSeconds(1))
                {
                    Thread.Yield();
                }
            }
        });
        var taker = LearnerThread.Start("taker", () =>
        {
            marker.Value = "taker";
            return queue.Take(cancel.Token);
        });
        taker.ShouldBlock($"Take returned on an empty queue. {TakeMustWait}");

        LearnerThread.Start("canceller", cancel.Cancel).ShouldFinish(
            "CancellationTokenSource.Cancel() never returned: the token's callback was running when the taker woke up, and " +
            $"the taker, still holding the lock, waited for that callback, which waits for the lock. {Rules.RegisterOutsideTheLock}",
            diagnosisIfThrew: "CancellationTokenSource.Cancel() ran your registered callback, and it threw.");
        taker.TryJoin();
        if (!itemPut || taker.Exception is OperationCanceledException)
        {
            taker.ShouldThrow<OperationCanceledException>(
                    CancelIgnored,
                    $"Only an item could have ended the taker's wait, other than its token. {CancelledMustThrow} (Or the taker went on after " +
                    $"being woken without checking its token and the queue again: {Rules.WhileNotIf})")
                .ShouldCarry("Take", cancel.Token);
            queue.Count.ShouldBe(itemPut ? 1 : 0, $"The taker was cancelled, so it took nothing. {Rules.NoTrace}");
        }
        else
        {
            taker.ShouldFinish(TakeLostWakeUp).ShouldBe(7, "The taker woke up with the item that was put.");
            queue.Count.ShouldBe(0);
        }
    }

    [Test]
    public void A_finished_call_leaves_no_registration_on_the_callers_token()
    {
        // A long-lived token (a service's shutdown token, say) outlives thousands of calls. Each call registers a
        // callback on it; if a call does not dispose its registration, the token keeps the callback, and the
        // callback keeps the queue, for as long as the token lives.
        using var longLived = new CancellationTokenSource();
        WeakReference queue = UseAQueueWith(longLived.Token);
        for (int i = 0; i < 3 && queue.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        queue.IsAlive.ShouldBeFalse(
            "After every call returned and nothing else refers to the queue, the caller's CancellationTokenSource still " +
            $"keeps it alive. {Rules.DisposeTheRegistration}");
        GC.KeepAlive(longLived);
    }

    [Test]
    public void A_timeout_is_checked_first_then_rounded_up_to_whole_milliseconds()
    {
        var queue = new WorkQueue<int>(1);

        // Negative, but not Timeout.InfiniteTimeSpan (which is exactly -1 ms): rejected, never rounded to 0 ("don't
        // wait") or -1 ("wait forever"). On a learner thread, in case one of them does wait forever.
        foreach (TimeSpan negative in new[] { TimeSpan.FromTicks(-1), TimeSpan.FromMilliseconds(-0.5), TimeSpan.FromMilliseconds(-1.5) })
        {
            string call = $"TryTake({negative.TotalMilliseconds} ms)";
            var caller = LearnerThread.Start("caller", () => RejectsOrReturns(() => queue.TryTake(out _, negative)));
            string outcome = (string)caller.ShouldFinish($"{call} on an empty queue is still waiting: the timeout became -1, \"wait forever\". {Rules.ValidateThenRoundUp}")!;
            outcome.ShouldBe("rejected", $"{call} {outcome}, but a negative timeout other than Timeout.InfiniteTimeSpan is a mistake. {Rules.ValidateThenRoundUp}");
        }

        // Positive but under a millisecond: rounded up to 1 ms, never down to 0 ("don't wait").
        TimeSpan half = TimeSpan.FromMilliseconds(0.5);
        var taker = LearnerThread.Start("taker", () => Timed(() => queue.TryTake(out _, half)));
        var (took, takeTime) = ((bool, TimeSpan))taker.ShouldFinish($"TryTake(0.5 ms) on an empty queue never returned. {MustGiveUp} {Rules.ValidateThenRoundUp}")!;
        took.ShouldBeFalse("TryTake(0.5 ms) on an empty queue returns false.");
        if (takeTime < half * 0.6)
        {
            Assert.Fail($"TryTake(0.5 ms) returned after {takeTime.TotalMilliseconds:0.000} ms: it did not wait at all. {Rules.ValidateThenRoundUp}");
        }

        queue.PutWhileThereIsRoom(1);
        var putter = LearnerThread.Start("putter", () => Timed(() => queue.TryPut(2, half)));
        var (put, putTime) = ((bool, TimeSpan))putter.ShouldFinish($"TryPut(0.5 ms) on a full queue never returned. {MustGiveUp} {Rules.ValidateThenRoundUp}")!;
        put.ShouldBeFalse($"TryPut(0.5 ms) on a full queue returns false. {StillFull}");
        if (putTime < half * 0.6)
        {
            Assert.Fail($"TryPut(0.5 ms) returned after {putTime.TotalMilliseconds:0.000} ms: it did not wait at all. {Rules.ValidateThenRoundUp}");
        }

        queue.Count.ShouldBe(1);
    }

    [Test]
    public void Timeout_InfiniteTimeSpan_waits_as_long_as_it_takes_and_the_longest_finite_timeout_is_accepted()
    {
        var queue = new WorkQueue<int>(1);
        var taker = LearnerThread.Start("taker", () => queue.TryTake(out int item, Timeout.InfiniteTimeSpan) ? item : -1);
        taker.ShouldBlock("TryTake(Timeout.InfiniteTimeSpan) returned on an empty queue: it means \"wait as long as it takes\" (Timeout.Infinite for Monitor.Wait).");
        queue.Put(1);
        taker.ShouldFinish(TakeLostWakeUp).ShouldBe(1);

        queue.PutWhileThereIsRoom(2);
        var putter = LearnerThread.Start("putter", () => queue.TryPut(3, Timeout.InfiniteTimeSpan));
        putter.ShouldBlock("TryPut(Timeout.InfiniteTimeSpan) returned on a full queue: it means \"wait as long as it takes\".");
        queue.Take().ShouldBe(2);
        putter.ShouldFinish(PutLostWakeUp).ShouldBe(true);

        // int.MaxValue milliseconds (almost 25 days) is the longest timeout Monitor.Wait takes: allowed. One more is not.
        TimeSpan longest = TimeSpan.FromMilliseconds(int.MaxValue);
        LearnerThread.Start("caller", () => queue.TryTake(out int item, longest) ? item : -1)
            .ShouldFinish("TryTake(int.MaxValue ms) waited although an item was there.", diagnosisIfThrew: "A timeout of exactly int.MaxValue milliseconds is valid.")
            .ShouldBe(3);
        Expect.Throws<ArgumentOutOfRangeException>(
                () => queue.TryTake(out _, longest + TimeSpan.FromMilliseconds(1)),
                "A timeout longer than int.MaxValue milliseconds cannot be waited for: throw ArgumentOutOfRangeException.")
            .ParamName.ShouldBe("timeout");
    }

    [Test]
    public void A_TryTake_woken_for_others_still_gives_up_at_its_deadline()
    {
        var queue = new WorkQueue<int>();
        using var stop = new ManualResetEventSlim();

        // Another taker is cancelled every few milliseconds; each cancellation wakes every waiter, this one too.
        var waker = QueueSetup.WakeEveryoneAgainAndAgain("waker", token => queue.Take(token), stop);
        GivesUpAtItsDeadline("TryTake", timeout => LearnerThread.Start("taker", () => Timed(() => queue.TryTake(out _, timeout))), stop, waker);
    }

    [Test]
    public void A_TryPut_woken_for_others_still_gives_up_at_its_deadline()
    {
        var queue = new WorkQueue<int>(1);
        queue.PutWhileThereIsRoom(1);
        using var stop = new ManualResetEventSlim();

        // Another putter is cancelled every few milliseconds; each cancellation wakes every waiter, this one too.
        var waker = QueueSetup.WakeEveryoneAgainAndAgain("waker", token => queue.Put(2, token), stop);
        GivesUpAtItsDeadline("TryPut", timeout => LearnerThread.Start("putter", () => Timed(() => queue.TryPut(3, timeout))), stop, waker);
        queue.Count.ShouldBe(1, "Neither the cancelled Puts nor the TryPut that timed out added anything.");
    }

    [Test]
    public void Consumers_polling_TryTake_with_zero_or_tiny_timeouts_never_lose_or_duplicate_an_item()
    {
        // Like Step 2's large items, taken here with TryTake: a fast path that skips the lock "when an item is
        // there anyway" races with every other taker.
        var queue = new WorkQueue<Slab>();
        TimeSpan[] timeouts = [TimeSpan.Zero, TimeSpan.FromTicks(1), TimeSpan.FromMilliseconds(1)];
        int call = 0;
        QueueSetup.CirculateLargeItems(
            queue,
            () =>
            {
                bool took = queue.TryTake(out Slab item, timeouts[Interlocked.Increment(ref call) % timeouts.Length]);
                return (took, item);
            },
            threads: 16,
            rounds: 200,
            Rules.OneLock);
    }

    /// <summary>Wakes every waiter once, for someone else: starts another waiter, waits until it blocks, and cancels it
    /// (its callback pulses the monitor). <paramref name="waiter"/> must go back to waiting. Done before a test
    /// cancels <paramref name="waiter"/> itself, it tells "went on after any wake-up" (an `if`) from "mishandles its
    /// own cancellation".</summary>
    private static void WakeForSomeoneElse(LearnerThread waiter, Func<CancellationToken, LearnerThread> startOther)
    {
        using var cancelOther = new CancellationTokenSource();
        var other = startOther(cancelOther.Token);
        other.ShouldBlock($"{other.Name} returned although it had to wait.");
        Cancellation.CancelOnOwnThread(cancelOther);
        other.TryJoin();
        waiter.ShouldBlock(
            $"{waiter.Name} returned when another waiter was cancelled, although nothing it waits for had happened and its own " +
            $"token was not cancelled. {Rules.WhileNotIf}");
    }

    /// <summary>Runs <paramref name="call"/> and says how long it took.</summary>
    private static (bool Result, TimeSpan Elapsed) Timed(Func<bool> call)
    {
        var clock = Stopwatch.StartNew();
        bool result = call();
        return (result, clock.Elapsed);
    }

    /// <summary>"rejected" if <paramref name="call"/> throws ArgumentOutOfRangeException, otherwise what it did.</summary>
    private static string RejectsOrReturns(Func<bool> call)
    {
        try
        {
            return $"returned {call()}";
        }
        catch (ArgumentOutOfRangeException)
        {
            return "rejected";
        }
        catch (Exception ex) when (ex is not NotImplementedException)
        {
            return $"threw {ex.GetType().Name}";
        }
    }

    /// <summary>Starts a timed call of 200 ms while <paramref name="waker"/> keeps waking it, and requires it to give
    /// up after about 200 ms: not at the first wake-up, and not 200 ms after the last one.</summary>
    private static void GivesUpAtItsDeadline(string call, Func<TimeSpan, LearnerThread> start, ManualResetEventSlim stop, LearnerThread waker)
    {
        TimeSpan timeout = TimeSpan.FromMilliseconds(200);
        TimeSpan limit = Deadlines.Scaled(TimeSpan.FromSeconds(5));
        var caller = start(timeout);
        bool finished = caller.TryJoin(limit);
        stop.Set();
        if (!finished)
        {
            Assert.Fail(
                $"{call}(200 ms) was still waiting after {Deadlines.Describe(limit)}, while the cancellations of another waiter " +
                $"kept waking it every few milliseconds. {Rules.RemainingTime}");
        }

        var (done, elapsed) = ((bool, TimeSpan))caller.ShouldFinish(Rules.RemainingTime, diagnosisIfThrew: Rules.WhileNotIf)!;
        done.ShouldBeFalse($"{call}(200 ms) returns false when nothing happened for it before the timeout: it went on after a wake-up meant for another thread. {Rules.WhileNotIf}");
        if (elapsed < timeout * 0.6)
        {
            Assert.Fail(
                $"{call}(200 ms) gave up after {elapsed.TotalMilliseconds:0} ms: a wake-up meant for another thread is not the end " +
                $"of the timeout. {Rules.WhileNotIf}");
        }

        waker.ShouldFinish(CancelIgnored, diagnosisIfThrew: $"The waking thread's own cancelled calls must throw OperationCanceledException. {CancelledMustThrow}");
    }

    /// <summary>Makes calls with <paramref name="token"/> that return normally, time out, and take and put, on a
    /// queue that nothing refers to afterwards; returns a weak reference to it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference UseAQueueWith(CancellationToken token)
    {
        var queue = new WorkQueue<int>(1);
        var weak = new WeakReference(queue);

        // On a learner thread (a call that wrongly waits is then reported); it only sees the queue through a box
        // that is emptied afterwards, so the finished thread object does not keep the queue alive either.
        var box = new StrongBox<WorkQueue<int>?>(queue);
        LearnerThread.Start("caller", () =>
        {
            WorkQueue<int> q = box.Value!;
            q.Put(1, token);
            q.TryPut(2, TimeSpan.FromMilliseconds(1), token);
            q.Take(token);
            q.TryTake(out _, TimeSpan.FromMilliseconds(1), token);
            q.TryPut(3, TimeSpan.Zero, token);
            q.TryTake(out _, TimeSpan.Zero, token);
        }).ShouldFinish($"Calls that had items, room, or a 1 ms timeout should have returned at once. {MustGiveUp}");
        box.Value = null;
        return weak;
    }
}
