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
    private const string FreesItsWorker =
        "Cancelling a request in flight frees its worker at once for the next request: clear the worker's request in flight and " +
        "dispatch. The worker still answers the cancelled request, late, and that reply is dropped by its id.";

    private const string ObjectDisposed =
        "Dispose fails every task not answered yet, queued or in flight, with ObjectDisposedException.";

    /// <summary>The largest prime below 2^63, fifty times: minutes of trial division. A worker busy with it cannot read
    /// the end of its input before it is done, so only a kill ends it.</summary>
    private static readonly string LongCheck = "check " + string.Join(',', Enumerable.Repeat("9223372036854775783", 50));

    [Test]
    public void A_worker_killed_mid_task_fails_that_task_with_WorkerCrashedException()
    {
        PrimePool pool = NewPool(1);
        Task<string> held = pool.SendAsync("hold");
        int pid = WaitForWorkers(pool, 1, "A request needs a worker.")[0];
        held.ShouldStayPending("'hold' is never answered.");

        ChildProcesses.Kill(pid);

        var crash = ShouldFailWithCrash(held, pool, CrashUnnoticed);
        crash.ProcessId.ShouldBe(pid, "WorkerCrashedException.ProcessId is the process id of the worker that died.");
        crash.ExitCode.ShouldNotBe(0, "A killed worker's exit code is not 0 (137 on Linux: 128 + SIGKILL); the exception carries the real exit code.");
    }

    [Test]
    public void A_worker_that_exits_mid_task_reports_its_exit_code()
    {
        PrimePool pool = NewPool(1);
        pool.IsPrimeAsync(7).ShouldComplete(NoAnswer);
        int pid = WorkerIds(pool)[0];

        var crash = ShouldFailWithCrash(pool.SendAsync("exit 42"), pool, CrashUnnoticed);
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
        ShouldFailWithCrash(held, pool, CrashUnnoticed);

        // With nothing waiting, no replacement starts yet: workers start on demand, when a request needs one.
        Poll.Until(() => !WorkerIds(pool).Contains(dead), "A dead worker must leave WorkerProcessIds: it lists the workers alive right now.");
        Settle.OneSided();
        WorkerIds(pool).ShouldBeEmpty(
            "After a crash with no request waiting, the pool starts no replacement until a request needs one: workers start on " +
            "demand. (With requests waiting, the replacement starts at once.)");

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

        ShouldFailWithCrash(held, pool, CrashUnnoticed);
        queued.ShouldComplete(
            "After a crash the pool replaces the dead worker, at once when requests are waiting: a queued request was never sent to a " +
            "worker, so a crash must not fail it, and it must not wait for the next submit either.",
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

        ShouldFailWithCrash(Task.WhenAny(first, second).Unwrap(), pool, CrashUnnoticed);
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

        var error = pool.SendAsync("check 7,x").ShouldFail<WorkerErrorException>(
            NoAnswer,
            "An error reply ('<id> error <message>') fails that task only, with WorkerErrorException.");
        error.Message.ShouldStartWith(
            "bad number 'x'",
            Case.Sensitive,
            "WorkerErrorException's message is the worker's own message: the reply '<id> error bad number 'x': ...' without its id and " +
            "'error '. It tells the caller what was wrong with the request.");
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
        PrimePool pool = NewPool(1);
        Task<string> busy = pool.SendAsync(LongCheck);
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
        // Whichever worker is killed, the other is busy with a long check and cannot read the end of its input: only a
        // kill ends it.
        Task<string> first = pool.SendAsync(LongCheck);
        Task<string> second = pool.SendAsync(LongCheck);
        IReadOnlyList<int> ids = WaitForWorkers(pool, 2, "Two long checks need two workers.");
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
        ShouldBeCanceledWith(
            exit,
            "Cancelling a queued request must end its task as cancelled at once: register a callback on the token that removes the " +
            "request from the queue and calls TrySetCanceled(token).",
            cancelExit.Token);

        // Cancelling 'wait' frees the worker, and the next request goes out. That must be the check: the cancelled
        // 'exit 3' must never be sent (it would end the worker, and the check would fail with WorkerCrashedException).
        Task<bool> next = pool.IsPrimeAsync(10_000_019);
        Cancellation.CancelOnOwnThread(cancelWait);
        ShouldBeCanceledWith(inFlight, "Cancelling a request in flight must end its task as cancelled at once.", cancelWait.Token);
        next.ShouldComplete(
            $"{FreesItsWorker} {NoAnswer}",
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
        ShouldBeCanceledWith(
            inFlight,
            "Cancelling a request in flight must end its task as cancelled at once, without waiting for the worker's answer.",
            cancelWait.Token);

        // Now the worker is free for the next request. When it arrives, the worker first answers 'wait' (late,
        // for the cancelled request) and then the check. Replies must be matched by id, or the check gets "ok".
        next.ShouldComplete(
            $"{FreesItsWorker} {NoAnswer}",
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
        ShouldBeCanceledWith(
            map,
            "Cancelling MapAsync's token must cancel its chunks, which are still queued, and end the map as cancelled at once.",
            cancel.Token);
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

    [Test]
    public void A_worker_that_dies_at_start_up_reports_the_end_of_its_stderr()
    {
        using var fake = FakeWorker.Start(FakeWorker.DieAtStartUp);
        PrimePool pool = NewPool(1);

        var crash = ShouldFailWithCrash(
            pool.IsPrimeAsync(7),
            pool,
            "A worker that dies before it answers (here at start-up, before it read anything) fails the request in flight on it with " +
            "WorkerCrashedException.");

        crash.ExitCode.ShouldBe(5, "WorkerCrashedException carries the dead worker's real exit code (5 here).");
        crash.StandardErrorTail.TrimEnd().ShouldEndWith(
            FakeWorker.LastWords,
            Case.Sensitive,
            "WorkerCrashedException.StandardErrorTail is the END of what the worker wrote to stderr, its last words (where .NET prints " +
            "an unhandled exception): keep the last few kilobytes of stderr, not the first, and let the stderr reader finish (its pipe " +
            "ends with the process) before you build the exception.");
        crash.Message.ShouldContain(
            FakeWorker.LastWords,
            Case.Sensitive,
            "The crash reaches the caller with the worker's stderr: pass the tail to new WorkerCrashedException(processId, exitCode, " +
            "standardErrorTail), which puts it in the message.");
    }

    [Test]
    public void A_worker_that_dies_while_a_big_request_is_written_to_it_fails_that_request_with_WorkerCrashedException()
    {
        // The fake reads 256 bytes of the request and exits, the rest unread: the pool's write of about 7 MB, far
        // beyond the pipe's buffer, fails with a broken pipe.
        using var fake = FakeWorker.Start(FakeWorker.DieMidRequest);
        PrimePool pool = NewPool(1);

        var crash = ShouldFailWithCrash(
            pool.SendAsync(FakeWorker.Check([.. Enumerable.Range(1, 1_000_000).Select(i => (long)i)])),
            pool,
            "A broken pipe is a dead worker: when the worker dies while its request is being written, the write fails with an " +
            "IOException. That is not the request's answer: catch it in the write, and let the end of the worker's stdout fail the " +
            "request with WorkerCrashedException (with its exit code).");
        crash.ExitCode.ShouldBe(7, "WorkerCrashedException carries the dead worker's real exit code (7 here).");
    }

    [Test]
    public void A_garbled_reply_from_a_living_worker_fails_that_request_only()
    {
        using var fake = FakeWorker.Start(FakeWorker.Scripted);
        PrimePool pool = NewPool(1);
        pool.IsPrimeAsync(7).ShouldComplete(NoAnswer).ShouldBeTrue();
        int pid = WorkerIds(pool)[0];
        const string Rule =
            "A reply the pool cannot read is the worker's error, never an answer: fail that request with WorkerErrorException. The " +
            "worker is alive, so keep it for the next request.";

        (string What, string Quoted, Func<Task> Call)[] garbled =
        [
            ("'<id> ok x' to IsPrimeAsync", "ok x", () => pool.IsPrimeAsync(FakeWorker.GarbledVerdicts)),
            ("'<id> ok xx' to a chunk of MapAsync", "ok xx", () => pool.MapAsync([7, FakeWorker.GarbledVerdicts], chunkSize: 2)),
            ("'<id> okay' (neither 'ok' nor 'error')", "okay", () => pool.SendAsync(FakeWorker.Check(FakeWorker.MalformedReply))),
            ("a reply without an id", "ok 0", () => pool.SendAsync(FakeWorker.Check(FakeWorker.ReplyWithoutId))),
            ("a reply with an id this worker was never sent (replies are matched by id: it answers no request)", "ok 0",
                () => pool.SendAsync(FakeWorker.Check(FakeWorker.ReplyWithUnknownId))),
        ];
        foreach ((string what, string quoted, Func<Task> call) in garbled)
        {
            call().ShouldFail<WorkerErrorException>($"The worker answered {what}. {NoAnswer}", $"The worker answered {what}. {Rule}")
                .Message.ShouldContain(
                    quoted,
                    Case.Sensitive,
                    $"The worker answered {what}: WorkerErrorException's message quotes what the worker sent, so that the caller can see it.");
            pool.IsPrimeAsync(11).ShouldComplete(
                $"After {what}, the worker is free for the next request. {NoAnswer}",
                diagnosisIfFailed: $"After {what}: {Rule}").ShouldBeTrue();
            WorkerIds(pool).ShouldBe([pid], $"After {what}: {Rule}");
        }

        pool.SendAsync(FakeWorker.Check(7, FakeWorker.ReplyEndingInCrLf)).ShouldComplete(NoAnswer).ShouldBe(
            "ok 10",
            "A reply that ends in \"\\r\\n\" (as WriteLine writes it on Windows) is still a reply, and its '\\r' is not part of the body: the " +
            "pool drops a '\\r' before the '\\n', as the worker does with requests.");
    }

    [Test]
    public void A_worker_that_closes_its_stdout_but_lives_on_is_ended_and_reported()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("The fake worker finds every descriptor of its stdout in /proc, which only Linux has.");
        }

        using var fake = FakeWorker.Start(FakeWorker.Scripted);
        PrimePool pool = NewPool(1);
        pool.IsPrimeAsync(7).ShouldComplete(NoAnswer).ShouldBeTrue();
        int pid = WorkerIds(pool)[0];

        // The end of its stdout comes while the process still runs (it never exits on its own): its exit code cannot
        // be read yet. A pool that waits for the exit, bounded, and kills what lingers, reports it; the reference
        // waits 5 s.
        var crash = ShouldFailWithCrash(
            pool.SendAsync(FakeWorker.Check(FakeWorker.CloseStdoutAndLinger)),
            pool,
            $"{ExitCodeBeforeExit} A worker whose stdout has ended answers nothing any more: it is dead to the pool.",
            TimeSpan.FromSeconds(5) + Deadlines.Hang);
        crash.ProcessId.ShouldBe(pid, "WorkerCrashedException.ProcessId is the process id of the worker that died.");
        Poll.Until(
            () => !ChildProcesses.IsRunning(pid),
            "A worker that closed its stdout but lives on is of no use to anyone: after a few seconds, kill it (Process.Kill), so that " +
            "no process outlives its use.");
    }

    [Test]
    public void IsPrimeAsync_and_MapAsync_report_a_crash_as_WorkerCrashedException()
    {
        using var fake = FakeWorker.Start(FakeWorker.Scripted);
        PrimePool pool = NewPool(1);

        ShouldFailWithCrash(
            pool.IsPrimeAsync(FakeWorker.Exit),
            pool,
            "IsPrimeAsync fails with WorkerCrashedException if the worker dies while on it (here it exited with code 4): never a " +
            "verdict, and never another exception.").ExitCode.ShouldBe(4);
        PrimePool other = NewPool(1);
        ShouldFailWithCrash(
            other.MapAsync([7, FakeWorker.Exit, 11], chunkSize: 3),
            other,
            "If one chunk fails, the map fails with that chunk's exception: here its worker died, so WorkerCrashedException.");
    }

    [Test]
    public void A_map_whose_chunk_fails_fails_at_once_and_leaves_no_worker_busy()
    {
        // Two chunks on two workers: the second gets an error reply at once; the first is answered only when its
        // worker receives another request. Cancelling the first frees its worker; not cancelling it keeps the map
        // (and that worker) waiting for ever.
        using var fake = FakeWorker.Start(FakeWorker.Scripted);
        PrimePool pool = NewPool(2);

        var error = pool.MapAsync([FakeWorker.LateReply, FakeWorker.ErrorReply], chunkSize: 1).ShouldFail<WorkerErrorException>(
            "If one chunk fails, the map fails at once with that chunk's exception: cancel the other chunks (through a " +
            "CancellationTokenSource linked to the caller's token, which every request reacts to: register a callback on the token) " +
            "instead of waiting for them. Here one chunk got an error reply, and the other one is answered only when its worker " +
            "receives another request.",
            "If one chunk fails, the map fails with that chunk's exception (here the worker's error reply).");
        error.Message.ShouldContain(FakeWorker.ErrorMessage, Case.Sensitive, "If one chunk fails, the map fails with that chunk's exception.");
        WaitForWorkers(pool, 2, "The map's two chunks went to two workers.");

        // One worker is now held; the other must be free, although its cancelled chunk was never answered.
        Task<string> held = pool.SendAsync(FakeWorker.Check(FakeWorker.Hold));
        pool.IsPrimeAsync(11).ShouldComplete(
            "A map whose chunk failed must leave no worker busy: cancel its other chunks, and cancelling a chunk in flight frees its " +
            $"worker at once (its late reply is dropped by id). Here both workers stayed busy. {NoAnswer}",
            diagnosisIfFailed: "An error reply fails that task only (here one chunk's, and so the map): the workers live on, and the " +
                               "request after the failed map must succeed.")
            .ShouldBeTrue("The check of 11 got the late reply of the cancelled chunk: replies must be matched by id.");
        held.IsCompleted.ShouldBeFalse(
            "The held request is never answered: it completed with the late reply of the cancelled chunk. Replies must be matched by " +
            "id, not by order.");
    }

    [Test]
    public void Cancelling_IsPrimeAsync_or_MapAsync_in_flight_frees_the_worker_and_drops_the_late_reply()
    {
        using var fake = FakeWorker.Start(FakeWorker.Scripted);
        PrimePool pool = NewPool(1);

        using var cancelPrime = new CancellationTokenSource();
        Task<bool> prime = pool.IsPrimeAsync(FakeWorker.LateReply, cancelPrime.Token);
        WaitForWorkers(pool, 1, "A request needs a worker.");
        prime.ShouldStayPending("This check is answered only when the worker receives its next request.");
        Cancellation.CancelOnOwnThread(cancelPrime);
        ShouldBeCanceledWith(prime, "Cancelling IsPrimeAsync in flight must end its task as cancelled at once.", cancelPrime.Token);
        pool.IsPrimeAsync(7).ShouldComplete($"{FreesItsWorker} {NoAnswer}", diagnosisIfFailed: FreesItsWorker)
            .ShouldBeTrue("7 got the late verdict of the cancelled check (0): replies must be matched by id, not by order.");

        // A map with its first chunk in flight and two more queued.
        using var cancelMap = new CancellationTokenSource();
        Task<IReadOnlyList<bool>> map = pool.MapAsync([FakeWorker.LateReply, 13, 17], chunkSize: 1, cancelMap.Token);
        map.ShouldStayPending("The map's first chunk is answered only when the worker receives its next request.");
        Cancellation.CancelOnOwnThread(cancelMap);
        ShouldBeCanceledWith(
            map,
            "Cancelling MapAsync with a chunk in flight must end the map as cancelled at once: cancel every chunk, queued or in flight.",
            cancelMap.Token);
        pool.IsPrimeAsync(19).ShouldComplete($"{FreesItsWorker} {NoAnswer}", diagnosisIfFailed: FreesItsWorker)
            .ShouldBeTrue("19 got the late verdict of the cancelled chunk (0): replies must be matched by id, not by order.");

        IReadOnlyList<string> received = fake.RequestsReceived();
        received.ShouldNotContain("check 13", "A cancelled map's queued chunks are never sent: cancelling removes them from the queue.");
        received.ShouldNotContain("check 17", "A cancelled map's queued chunks are never sent: cancelling removes them from the queue.");
    }

    [Test]
    public void A_cancelled_token_is_honoured_before_the_request_is_written()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        const string Rule =
            "A request whose token is cancelled already ends as cancelled at once, and is never queued: honour the token before the " +
            "request is written (check it before anything else).";
        PrimePool pool = NewPool(1);

        ShouldBeCanceledWith(() => pool.SendAsync("exit 3", cancelled.Token), Rule, cancelled.Token);
        WorkerIds(pool).ShouldBeEmpty($"{Rule} No worker starts for it.");

        pool.IsPrimeAsync(7).ShouldComplete(NoAnswer).ShouldBeTrue();
        int pid = WorkerIds(pool)[0];
        ShouldBeCanceledWith(() => pool.SendAsync("exit 3", cancelled.Token), Rule, cancelled.Token);
        ShouldBeCanceledWith(() => pool.IsPrimeAsync(11, cancelled.Token), Rule, cancelled.Token);
        ShouldBeCanceledWith(() => pool.MapAsync([13, 17], chunkSize: 1, cancelled.Token), Rule, cancelled.Token);

        pool.IsPrimeAsync(10_000_019).ShouldComplete(
            NoAnswer,
            diagnosisIfFailed: $"{Rule} Here 'exit 3' reached the worker, which died.").ShouldBeTrue();
        WorkerIds(pool).ShouldBe([pid], $"{Rule} Here 'exit 3' reached the worker, which died and was replaced.");
    }

    [Test]
    public void A_finished_request_leaves_nothing_on_a_long_lived_token()
    {
        PrimePool pool = NewPool(1);
        using var lifetime = new CancellationTokenSource();

        WeakReference[] finished = WeaklyHeld(() =>
        {
            var tasks = new List<object>();
            for (int i = 0; i < 3; i++)
            {
                Task<string> answered = pool.SendAsync("check 7", lifetime.Token);
                answered.ShouldComplete(NoAnswer);
                tasks.Add(answered);
            }

            // And one that fails: Dispose fails what is in flight.
            PrimePool disposed = NewPool(1);
            Task<string> failed = disposed.SendAsync("hold", lifetime.Token);
            WaitForWorkers(disposed, 1, "A request needs a worker.");
            DisposeWithDeadline(disposed);
            failed.ShouldFail<ObjectDisposedException>(ObjectDisposed, ObjectDisposed);
            tasks.Add(failed);
            return tasks;
        });
        TakeUnobservedTaskExceptions(); // collects the garbage

        int kept = finished.Count(reference => reference.IsAlive);
        kept.ShouldBe(
            0,
            $"A finished request must leave nothing registered on the caller's token: unregister the callback " +
            $"(CancellationTokenRegistration.Unregister or Dispose) when the request completes. Here the token still holds {kept} of " +
            $"{finished.Length} finished requests and their tasks: a long-lived token (an application's shutdown token) would keep " +
            "every request ever made alive.");
        Cancellation.CancelOnOwnThread(lifetime);
        pool.IsPrimeAsync(7).ShouldComplete(NoAnswer, diagnosisIfFailed: "Cancelling a token whose requests have finished changes nothing.").ShouldBeTrue();
    }

    [Test]
    public void Queued_requests_go_out_first_come_first_served()
    {
        PrimePool pool = NewPool(1);
        Task<string> held = pool.SendAsync("hold");
        int dead = WaitForWorkers(pool, 1, "A request needs a worker.")[0];
        Task<bool> first = pool.IsPrimeAsync(10_000_019);
        Task<string> second = pool.SendAsync("hold");
        first.ShouldStayPending("The only worker is busy ('hold'): the next requests wait in the queue.");

        ChildProcesses.Kill(dead);
        ShouldFailWithCrash(held, pool, CrashUnnoticed);
        Poll.Until(
            () => WorkerIds(pool) is [int replacement] && replacement != dead,
            "After a crash the pool replaces the dead worker, at once when requests are waiting: remove it from the workers (it no " +
            "longer counts towards maxWorkers) and dispatch.");

        first.ShouldComplete(
            "Queued requests go out first come, first served: when a worker becomes free (here the replacement of a dead one), the " +
            $"OLDEST request in the queue goes to it. Here the later 'hold' went first, and the earlier check waits behind it. {NoAnswer}",
            diagnosisIfFailed: "A queued request was never sent to the dead worker: it must not fail.").ShouldBeTrue();
        second.IsCompleted.ShouldBeFalse("'hold' is never answered.");
    }

    [Test]
    public void Dispose_closes_each_workers_stdin_so_that_idle_workers_leave_on_their_own()
    {
        using var fake = FakeWorker.Start(FakeWorker.Scripted);
        PrimePool pool = NewPool(2);
        Task<string> waiting = pool.SendAsync(FakeWorker.Check(FakeWorker.LateReply));
        pool.IsPrimeAsync(7).ShouldComplete(NoAnswer).ShouldBeTrue();
        IReadOnlyList<int> ids = WaitForWorkers(pool, 2, "One request in flight and one more need two workers.");

        DisposeWithDeadline(pool);

        ShouldAllBeGone(ids, "Dispose");
        waiting.ShouldFail<ObjectDisposedException>(ObjectDisposed, ObjectDisposed);
        IReadOnlyDictionary<int, string[]> logs = fake.Logs();
        foreach (int id in ids)
        {
            logs.GetValueOrDefault(id, []).ShouldContain(
                FakeWorker.EndOfInput,
                $"Worker {id} never saw the end of its input: it was killed, or its stdin was never closed. Dispose closes every " +
                "worker's stdin first, so that each one leaves on its own (gently, with exit code 0), and kills only the ones still " +
                "running after the grace period.");
        }
    }

    [Test]
    public void DisposeAsync_returns_before_the_workers_have_exited()
    {
        // The largest prime below 2^63, fifty times: the worker is busy for minutes and must be killed after the
        // grace period (about a second), so a DisposeAsync that blocks returns only after that.
        PrimePool pool = NewPool(1);
        Task<string> busy = pool.SendAsync("check " + string.Join(',', Enumerable.Repeat("9223372036854775783", 50)));
        int pid = WaitForWorkers(pool, 1, "A request needs a worker.")[0];
        busy.ShouldStayPending("The check takes minutes.");

        bool aliveWhenReturned = false;
        var caller = LearnerThread.Start("DisposeAsync caller", () =>
        {
            Task disposing = pool.DisposeAsync().AsTask();
            aliveWhenReturned = ChildProcesses.IsRunning(pid);
            return disposing;
        });
        var disposal = (Task)caller.ShouldFinish("DisposeAsync must return a task at once, and end the workers in the background.")!;

        aliveWhenReturned.ShouldBeTrue(
            "DisposeAsync must not block its caller: it returned only after the busy worker had exited (after the grace period and the " +
            "kill). Await the exits (Process.WaitForExitAsync) instead of waiting for them on the caller's thread: the caller gets " +
            "its task at once, and the workers leave while it awaits.");
        disposal.ShouldComplete("DisposeAsync must end every worker promptly, like Dispose.");
        ShouldAllBeGone([pid], "DisposeAsync");
        busy.ShouldFail<ObjectDisposedException>(ObjectDisposed, ObjectDisposed);
    }

    [Test]
    public void No_task_exception_goes_unobserved()
    {
        ForgetUnobservedTaskExceptions();

        // A broken pipe (the worker dies while its request is written), a kill mid-task, a cancellation in flight,
        // and a Dispose with requests pending: each leaves faulted tasks behind in a pool that does not catch.
        using (var fake = FakeWorker.Start(FakeWorker.DieMidRequest))
        {
            PrimePool broken = NewPool(1);
            ShouldFailWithCrash(
                broken.SendAsync(FakeWorker.Check([.. Enumerable.Range(1, 1_000_000).Select(i => (long)i)])),
                broken,
                "A broken pipe is a dead worker: WorkerCrashedException.");
            DisposeWithDeadline(broken);
        }

        PrimePool pool = NewPool(2);
        Task<string> held = pool.SendAsync("hold");
        int pid = WaitForWorkers(pool, 1, "A request needs a worker.")[0];
        ChildProcesses.Kill(pid);
        ShouldFailWithCrash(held, pool, CrashUnnoticed);
        using (var cancel = new CancellationTokenSource())
        {
            Task<string> waiting = pool.SendAsync("wait", cancel.Token);
            Cancellation.CancelOnOwnThread(cancel);
            ShouldBeCanceledWith(waiting, "Cancelling a request in flight must end its task as cancelled at once.", cancel.Token);
        }

        Task<string> pending = pool.SendAsync("hold");
        DisposeWithDeadline(pool);
        pending.ShouldFail<ObjectDisposedException>(ObjectDisposed, ObjectDisposed);

        // One-sided: a task that faults later than this is only missed, never blamed on correct code.
        var unobserved = new List<Exception>();
        for (int round = 0; round < 3; round++)
        {
            Settle.OneSided();
            unobserved.AddRange(TakeUnobservedTaskExceptions());
        }

        unobserved.ShouldBeEmpty(
            "No task exception may go unobserved: a task the pool started and nobody awaited failed." + DescribeUnobserved(unobserved) +
            " A fire-and-forget task (a write, a reader loop) must catch what it can throw: a broken pipe (IOException) when a worker " +
            "dies, ObjectDisposedException when the pool is disposed. Otherwise the exception is lost, and " +
            "TaskScheduler.UnobservedTaskException reports it later, far from its cause.");
    }

    [Test]
    public void The_exceptions_carry_what_the_caller_needs()
    {
        // What the pool reports for a worker that exits with code 42 in the middle of a task (and writes nothing to
        // stderr): built with the provided constructor, which says which process died and how.
        PrimePool pool = NewPool(1);
        pool.IsPrimeAsync(7).ShouldComplete(NoAnswer).ShouldBeTrue();
        int pid = WorkerIds(pool)[0];
        ShouldFailWithCrash(pool.SendAsync("exit 42"), pool, CrashUnnoticed).Message.ShouldBe(
            $"Worker process {pid} exited with code 42 while it had a request in flight.",
            "Report a crash with new WorkerCrashedException(processId, exitCode, standardErrorTail): its message says which process " +
            "died and how (and the end of its stderr, when there is any).");

        // The provided exceptions themselves: what they carry, and the standard constructors.
        var crash = new WorkerCrashedException(4242, 137, "  Unhandled exception. Boom.\n");
        crash.ProcessId.ShouldBe(4242, "WorkerCrashedException.ProcessId is the dead worker's process id.");
        crash.ExitCode.ShouldBe(137, "WorkerCrashedException.ExitCode is the dead worker's exit code.");
        crash.StandardErrorTail.ShouldBe("  Unhandled exception. Boom.\n", "WorkerCrashedException.StandardErrorTail is the stderr text as given.");
        crash.Message.ShouldBe(
            "Worker process 4242 exited with code 137 while it had a request in flight. The end of its stderr: Unhandled exception. Boom.",
            "The message says which process died, how, and what it last wrote to stderr.");
        var quiet = new WorkerCrashedException(7, 3, null!);
        quiet.StandardErrorTail.ShouldBe("", "A crash without stderr text has an empty StandardErrorTail, never null.");
        quiet.Message.ShouldBe("Worker process 7 exited with code 3 while it had a request in flight.", "Without stderr text, the message says so much only.");
        new WorkerCrashedException(7, 3, " \n ").Message.ShouldNotContain("stderr", Case.Sensitive, "Blank stderr text is not worth a mention.");

        new WorkerCrashedException().Message.ShouldBe("A worker process died while it had a request in flight.");
        new WorkerCrashedException("gone").StandardErrorTail.ShouldBe("");
        var inner = new IOException("broken pipe");
        var wrapped = new WorkerCrashedException("gone", inner);
        wrapped.InnerException.ShouldBeSameAs(inner);
        wrapped.StandardErrorTail.ShouldBe("");
        new WorkerErrorException("bad number 'x'").Message.ShouldBe("bad number 'x'", "WorkerErrorException's message is the worker's message.");
        new WorkerErrorException("bad", inner).InnerException.ShouldBeSameAs(inner);
        new WorkerErrorException().Message.ShouldNotBeNullOrEmpty();
    }

    /// <summary>Requires <paramref name="task"/> to end as cancelled, reporting <see cref="OperationCanceledException"/>
    /// with the caller's <paramref name="token"/>.</summary>
    private static void ShouldBeCanceledWith(Task task, string diagnosisIfStuck, CancellationToken token)
    {
        task.ShouldBeCanceled($"{diagnosisIfStuck} {CancelCallback}", "A cancelled request's task ends as cancelled (TaskStatus.Canceled), never as a worker error or a crash.");
        OperationCanceledException canceled = Expect.Throws<OperationCanceledException>(
            () => task.GetAwaiter().GetResult(), "A cancelled task reports OperationCanceledException when awaited.");
        canceled.CancellationToken.ShouldBe(token, CallersToken);
    }

    /// <summary>Like <see cref="ShouldBeCanceledWith(Task, string, CancellationToken)"/>, for a call that may also
    /// throw the <see cref="OperationCanceledException"/> at once.</summary>
    private static void ShouldBeCanceledWith(Func<Task> call, string rule, CancellationToken token)
    {
        Task task;
        try
        {
            task = call();
        }
        catch (OperationCanceledException canceled)
        {
            canceled.CancellationToken.ShouldBe(token, CallersToken);
            return;
        }

        ShouldBeCanceledWith(task, rule, token);
    }

    private const string CancelCallback =
        "To cancel, register a callback on the token (UnsafeRegister) that takes the request out of the queue, or frees the worker " +
        "of a request in flight, and calls TrySetCanceled(token).";

    private const string CallersToken =
        "Cancellation is reported as OperationCanceledException carrying the caller's token: TrySetCanceled(token) with the token " +
        "the caller passed (and for MapAsync, not the token of a linked source of your own).";

    private const string CutReply =
        "A line without its '\\n' is not a reply: the worker died in the middle of writing it (its last bytes were \"<id> ok 10\" with " +
        "no line ending, then it exited with code 3). StreamReader.ReadLineAsync returns such a last piece at the end of stdout as " +
        "if it were a line: cut replies at '\\n' yourself, treat a piece left over at the end of stdout as the worker's death, and " +
        "fail the request in flight with WorkerCrashedException.";
}
