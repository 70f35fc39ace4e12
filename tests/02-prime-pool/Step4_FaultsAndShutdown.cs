namespace ConcurrencyKata.Tests.PrimePoolTests;

/// <summary>
/// Step 4: crashes, error replies, shutdown and cancellation. Crash tests are deterministic: a request is held in
/// flight on a known worker (<c>hold</c>, with one worker), then that worker is killed or told to <c>exit</c>.
/// Cancellation tests use the <c>wait</c> hook, which answers only when the next request reaches the worker, so
/// the order of events is forced, never guessed. See exercises/02-prime-pool/README.md.
/// </summary>
[Step(4)]
[TestFixture]
[NonParallelizable]
public sealed class Step4_FaultsAndShutdown : PoolTest
{
    private const string ObjectDisposed =
        "Dispose fails every task not answered yet, queued or in flight, with ObjectDisposedException.";

    [Test]
    public void A_worker_killed_mid_task_fails_that_task_with_WorkerCrashedException()
    {
        PrimePool pool = NewPool(1);
        Task<string> held = pool.SendAsync("hold");
        int pid = WaitForWorkers(pool, 1, "A request needs a worker.")[0];
        held.ShouldStayPending("'hold' is never answered.");

        ChildProcesses.Kill(pid);

        var crash = held.ShouldFail<WorkerCrashedException>(CrashUnnoticed, CrashUnnoticed);
        crash.ProcessId.ShouldBe(pid, "WorkerCrashedException.ProcessId is the process id of the worker that died.");
        crash.ExitCode.ShouldNotBe(0, "A killed worker's exit code is not 0 (137 on Linux: 128 + SIGKILL); the exception carries the real exit code.");
    }

    [Test]
    public void A_worker_that_exits_mid_task_reports_its_exit_code()
    {
        PrimePool pool = NewPool(1);
        pool.IsPrimeAsync(7).ShouldComplete(NoAnswer);
        int pid = WorkerIds(pool)[0];

        var crash = pool.SendAsync("exit 42").ShouldFail<WorkerCrashedException>(CrashUnnoticed, CrashUnnoticed);
        crash.ExitCode.ShouldBe(42, "The exception carries the exit code of the dead worker (Process.ExitCode, once it has exited).");
        crash.ProcessId.ShouldBe(pid, "WorkerCrashedException.ProcessId is the process id of the worker that died.");
    }

    [Test]
    public void After_a_crash_the_pool_replaces_the_dead_worker()
    {
        PrimePool pool = NewPool(1);
        Task<string> held = pool.SendAsync("hold");
        int dead = WaitForWorkers(pool, 1, "A request needs a worker.")[0];
        ChildProcesses.Kill(dead);
        held.ShouldFail<WorkerCrashedException>(CrashUnnoticed, CrashUnnoticed);

        // The documented policy: replace the dead worker and carry on (Python's pool would refuse all further work).
        pool.IsPrimeAsync(10_000_019).ShouldComplete(
            "After a crash the pool replaces the dead worker on the next request: remove it from the workers (it no longer counts " +
            $"towards maxWorkers) and start a new one. {NoAnswer}",
            diagnosisIfFailed: "After a crash the pool replaces the dead worker and goes on: only the tasks in flight on it fail.")
            .ShouldBeTrue();
        IReadOnlyList<int> ids = WorkerIds(pool);
        ids.Count.ShouldBe(1, "One worker again: the replacement.");
        ids[0].ShouldNotBe(dead, "The replacement is a new process.");
        ids.ShouldNotContain(dead, "A dead worker must leave WorkerProcessIds.");
    }

    [Test]
    public void A_request_queued_behind_a_crashed_one_still_gets_its_answer()
    {
        PrimePool pool = NewPool(1);
        Task<string> held = pool.SendAsync("hold");
        int dead = WaitForWorkers(pool, 1, "A request needs a worker.")[0];
        Task<bool> queued = pool.IsPrimeAsync(10_000_019);
        queued.ShouldStayPending("The only worker is busy with 'hold': the next request waits in the queue.");

        ChildProcesses.Kill(dead);

        held.ShouldFail<WorkerCrashedException>(CrashUnnoticed, CrashUnnoticed);
        queued.ShouldComplete(
            "A queued request was never sent to a worker, so a crash must not fail it, and it must not wait for the next submit either: " +
            "when a worker dies and requests are waiting, start the replacement at once.",
            diagnosisIfFailed: "Only the tasks in flight on the dead worker fail; a request still in the queue goes to the replacement.")
            .ShouldBeTrue();
    }

    [Test]
    public void Only_the_task_on_the_dead_worker_fails()
    {
        PrimePool pool = NewPool(2);
        Task<string> first = pool.SendAsync("hold");
        Task<string> second = pool.SendAsync("hold");
        IReadOnlyList<int> ids = WaitForWorkers(pool, 2, "Two held requests need two workers.");

        ChildProcesses.Kill(ids[0]);

        Task.WhenAny(first, second).ShouldComplete(CrashUnnoticed);
        (Task<string> failed, Task<string> survivor) = first.IsCompleted ? (first, second) : (second, first);
        failed.ShouldFail<WorkerCrashedException>(CrashUnnoticed, CrashUnnoticed).ProcessId.ShouldBe(ids[0]);
        survivor.ShouldStayPending("Only the tasks in flight on the dead worker fail: the other worker's task is still running.");
        WorkerIds(pool).ShouldContain(ids[1], "The other worker lives on.");
    }

    [Test]
    public void An_error_reply_fails_that_task_only()
    {
        PrimePool pool = NewPool(1);
        pool.IsPrimeAsync(7).ShouldComplete(NoAnswer);
        int pid = WorkerIds(pool)[0];

        pool.SendAsync("check 7,x").ShouldFail<WorkerErrorException>(
            NoAnswer,
            "An error reply ('<id> error <message>') fails that task only, with WorkerErrorException.");
        pool.IsPrimeAsync(10_000_019).ShouldComplete(
            NoAnswer,
            diagnosisIfFailed: "An ordinary error reply fails that task only: the next request must succeed.").ShouldBeTrue();
        WorkerIds(pool).ShouldBe([pid], "An ordinary error reply fails that task only: the worker is alive and well, keep it (same process).");
    }

    [Test]
    public void Dispose_ends_every_worker_and_fails_every_unanswered_task()
    {
        PrimePool pool = NewPool(2);
        Task<string> first = pool.SendAsync("hold");
        Task<string> second = pool.SendAsync("hold");
        IReadOnlyList<int> ids = WaitForWorkers(pool, 2, "Two held requests need two workers.");
        Task<bool> queued = pool.IsPrimeAsync(7);

        DisposeWithDeadline(pool);

        ShouldAllBeGone(ids, "Dispose");
        WorkerIds(pool).ShouldBeEmpty("After Dispose no worker is alive.");
        first.ShouldFail<ObjectDisposedException>(ObjectDisposed, ObjectDisposed);
        second.ShouldFail<ObjectDisposedException>(ObjectDisposed, ObjectDisposed);
        queued.ShouldFail<ObjectDisposedException>(ObjectDisposed, ObjectDisposed);
    }

    [Test]
    public void Dispose_kills_a_worker_busy_with_a_long_check()
    {
        // The largest prime below 2^63, fifty times: minutes of trial division. The worker cannot read the end of
        // its input before it is done, so Dispose has to kill it.
        PrimePool pool = NewPool(1);
        Task<string> busy = pool.SendAsync("check " + string.Join(',', Enumerable.Repeat("9223372036854775783", 50)));
        IReadOnlyList<int> ids = WaitForWorkers(pool, 1, "A request needs a worker.");
        busy.ShouldStayPending("The check takes minutes.");

        DisposeWithDeadline(pool);

        ShouldAllBeGone(ids, "Dispose");
        busy.ShouldFail<ObjectDisposedException>(ObjectDisposed, ObjectDisposed);
    }

    [Test]
    public void Dispose_after_a_crash_still_ends_everything_promptly()
    {
        PrimePool pool = NewPool(2);
        Task<string> first = pool.SendAsync("hold");
        Task<string> second = pool.SendAsync("hold");
        IReadOnlyList<int> ids = WaitForWorkers(pool, 2, "Two held requests need two workers.");
        ChildProcesses.Kill(ids[0]);

        DisposeWithDeadline(pool, "Dispose must end every worker promptly, also when one of them has crashed already.");

        ShouldAllBeGone(ids, "Dispose");
        foreach (Task<string> task in new[] { first, second })
        {
            Exception failure = task.ShouldFail<Exception>(ObjectDisposed, ObjectDisposed);
            (failure is WorkerCrashedException or ObjectDisposedException).ShouldBeTrue(
                "A task in flight fails with WorkerCrashedException (its worker died) or ObjectDisposedException (the pool was disposed), " +
                $"not {failure.GetType().Name}.");
        }
    }

    [Test]
    public void DisposeAsync_ends_every_worker()
    {
        PrimePool pool = NewPool(2);
        Task<string> held = pool.SendAsync("hold");
        pool.IsPrimeAsync(7).ShouldComplete(NoAnswer);
        IReadOnlyList<int> ids = WaitForWorkers(pool, 2, "One held request and one more need two workers.");

        pool.DisposeAsync().AsTask().ShouldComplete("DisposeAsync must end every worker promptly, like Dispose.");

        ShouldAllBeGone(ids, "DisposeAsync");
        held.ShouldFail<ObjectDisposedException>(ObjectDisposed, ObjectDisposed);
    }

    [Test]
    public void After_Dispose_every_call_throws_ObjectDisposedException()
    {
        PrimePool pool = NewPool(1);
        pool.IsPrimeAsync(7).ShouldComplete(NoAnswer);
        DisposeWithDeadline(pool);

        const string Rule = "After Dispose, IsPrimeAsync, MapAsync and SendAsync throw ObjectDisposedException (ObjectDisposedException.ThrowIf).";
        TaskExpectations.ThrowsOrFails<ObjectDisposedException>(() => pool.IsPrimeAsync(7), Rule);
        TaskExpectations.ThrowsOrFails<ObjectDisposedException>(() => pool.MapAsync([7, 8]), Rule);
        TaskExpectations.ThrowsOrFails<ObjectDisposedException>(() => pool.SendAsync("check 7"), Rule);
        WorkerIds(pool).ShouldBeEmpty("A disposed pool starts no worker.");
        DisposeWithDeadline(pool, "Disposing twice is harmless.");
        pool.DisposeAsync().AsTask().ShouldComplete("DisposeAsync after Dispose is harmless.");
    }

    [Test]
    public void Cancelling_a_queued_request_removes_it_without_sending_it()
    {
        PrimePool pool = NewPool(1);
        using var cancelWait = new CancellationTokenSource();
        Task<string> inFlight = pool.SendAsync("wait", cancelWait.Token);
        WaitForWorkers(pool, 1, "A request needs a worker.");
        using var cancelExit = new CancellationTokenSource();
        Task<string> exit = pool.SendAsync("exit 3", cancelExit.Token);
        exit.ShouldStayPending("The only worker is busy ('wait'), so the next request waits in the queue.");

        Cancellation.CancelOnOwnThread(cancelExit);
        exit.ShouldBeCanceled(
            "Cancelling a queued request must end its task as cancelled at once: register a callback on the token that removes the " +
            "request from the queue and calls TrySetCanceled.",
            "A cancelled request's task ends as cancelled (TaskStatus.Canceled).");

        // Cancelling 'wait' frees the worker, and the next request goes out. That must be the check: the cancelled
        // 'exit 3' must never be sent (it would end the worker, and the check would fail with WorkerCrashedException).
        Task<bool> next = pool.IsPrimeAsync(10_000_019);
        Cancellation.CancelOnOwnThread(cancelWait);
        inFlight.ShouldBeCanceled(
            "Cancelling a request in flight must end its task as cancelled at once.",
            "A cancelled request's task ends as cancelled (TaskStatus.Canceled).");
        next.ShouldComplete(
            NoAnswer,
            diagnosisIfFailed: "A cancelled request must never be sent: it reached the worker (which exited with code 3).").ShouldBeTrue();
        TaskExpectations.ThrowsOrFails<OperationCanceledException>(
            () => pool.IsPrimeAsync(7, cancelExit.Token),
            "A request made with a token that is cancelled already ends as cancelled at once.");
    }

    [Test]
    public void Cancelling_a_request_in_flight_ends_its_task_and_its_late_reply_is_matched_by_id()
    {
        PrimePool pool = NewPool(1);
        using var cancelWait = new CancellationTokenSource();
        Task<string> inFlight = pool.SendAsync("wait", cancelWait.Token);
        WaitForWorkers(pool, 1, "A request needs a worker.");
        Task<bool> next = pool.IsPrimeAsync(10_000_019);
        inFlight.ShouldStayPending("'wait' is answered only when the next request reaches the worker.");

        Cancellation.CancelOnOwnThread(cancelWait);
        inFlight.ShouldBeCanceled(
            "Cancelling a request in flight must end its task as cancelled at once, without waiting for the worker's answer.",
            "A cancelled request's task ends as cancelled (TaskStatus.Canceled).");

        // Now the worker is free for the next request. When it arrives, the worker first answers 'wait' (late,
        // for the cancelled request) and then the check. Replies must be matched by id, or the check gets "ok".
        next.ShouldComplete(
            "After a request in flight is cancelled, its worker is free: send it the next request. (The worker answers the cancelled " +
            $"request first, late.) {NoAnswer}",
            diagnosisIfFailed: "Replies must be matched by id, not by order: the worker answered the cancelled request late ('<id> ok'), " +
                               "just before the next request's reply, and that late reply went to the next request. Ignore a reply whose " +
                               "id is not the request in flight.")
            .ShouldBeTrue("The check of 10 000 019 got the verdict of another request: replies must be matched by id.");
    }

    [Test]
    public void Cancelling_MapAsync_cancels_its_queued_chunks()
    {
        PrimePool pool = NewPool(1);
        Task<string> held = pool.SendAsync("hold");
        WaitForWorkers(pool, 1, "A request needs a worker.");
        using var cancel = new CancellationTokenSource();
        Task<IReadOnlyList<bool>> map = pool.MapAsync(Enumerable.Range(1, 20).Select(i => (long)i).ToArray(), chunkSize: 2, cancel.Token);
        map.ShouldStayPending("The only worker is busy ('hold'): every chunk waits in the queue.");

        Cancellation.CancelOnOwnThread(cancel);
        map.ShouldBeCanceled(
            "Cancelling MapAsync's token must cancel its chunks, which are still queued, and end the map as cancelled at once.",
            "A cancelled MapAsync ends as cancelled.");
        held.IsCompleted.ShouldBeFalse("Cancelling the map leaves other requests alone.");
    }

    [Test]
    public void A_reply_cut_off_by_the_workers_death_is_not_a_reply()
    {
        // The fake worker writes "<id> ok 10" without its '\n' and exits with code 3: the real worker does exactly
        // that when it is killed in the middle of writing a long reply, here forced instead of hoped for.
        using var fake = FakeWorker.Start(FakeWorker.Scripted);
        PrimePool pool = NewPool(1);
        pool.IsPrimeAsync(7).ShouldComplete(NoAnswer).ShouldBeTrue();

        var crash = ShouldFailWithCrash(pool.SendAsync(FakeWorker.Check(FakeWorker.CutReply)), pool, CutReply);
        crash.ExitCode.ShouldBe(3, $"The worker exited with code 3, and WorkerCrashedException carries it. {CutReply}");

        // The same through MapAsync, where a cut reply that passed for a line would be a verdict, or a WorkerErrorException.
        PrimePool other = NewPool(1);
        ShouldFailWithCrash(other.MapAsync([7, FakeWorker.CutReply, 11], chunkSize: 3), other, CutReply);
    }

    private const string CutReply =
        "A line without its '\\n' is not a reply: the worker died in the middle of writing it (its last bytes were \"<id> ok 10\" with " +
        "no line ending, then it exited with code 3). StreamReader.ReadLineAsync returns such a last piece at the end of stdout as " +
        "if it were a line: cut replies at '\\n' yourself, treat a piece left over at the end of stdout as the worker's death, and " +
        "fail the request in flight with WorkerCrashedException.";
}
