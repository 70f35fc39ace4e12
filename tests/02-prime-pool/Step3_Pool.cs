using System.Globalization;

namespace ConcurrencyKata.Tests.PrimePoolTests;

/// <summary>
/// Step 3: the pool. Workers start on demand, at most <c>maxWorkers</c> of them, and are reused; requests spread over
/// them; <see cref="PrimePool.MapAsync"/> batches and keeps input order; neither a huge reply nor a chatty stderr
/// can deadlock the pipes. The tests hold workers busy with the protocol's <c>hold</c> hook instead of guessing
/// durations. See exercises/02-prime-pool/README.md.
/// </summary>
[Step(3)]
[TestFixture]
[NonParallelizable]
public sealed class Step3_Pool : PoolTest
{
    [Test]
    public void The_constructor_rejects_fewer_than_one_worker_and_starts_no_process()
    {
        foreach (int maxWorkers in new[] { 0, -1, int.MinValue })
        {
            var ex = Expect.Throws<ArgumentOutOfRangeException>(
                () => new PrimePool(maxWorkers),
                $"new PrimePool({maxWorkers}) must throw ArgumentOutOfRangeException: a pool needs at least one worker.");
            ex.ParamName.ShouldBe("maxWorkers", "Name the bad parameter: ArgumentOutOfRangeException.ThrowIfLessThan(maxWorkers, 1).");
        }

        PrimePool pool = NewPool(3);
        pool.MaxWorkers.ShouldBe(3);
        WorkerIds(pool).ShouldBeEmpty("Workers start on demand, on the first request, not in the constructor.");

        using var byDefault = new PrimePool();
        byDefault.MaxWorkers.ShouldBe(Environment.ProcessorCount, "new PrimePool() has one worker per core at most, like Python's ProcessPoolExecutor().");
        WorkerIds(byDefault).ShouldBeEmpty("new PrimePool() starts no process either: workers start on demand, on the first request.");
        if (OperatingSystem.IsLinux())
        {
            ChildProcesses.RunningChildren().ShouldBeEmpty("Constructing a pool starts no process: workers start on demand, on the first request.");
        }
    }

    [Test]
    public void IsPrimeAsync_answers_the_articles_numbers()
    {
        PrimePool pool = NewPool(2);

        // Twice on the same pool: the second round runs on workers that have already answered (rule 16).
        for (int round = 1; round <= 2; round++)
        {
            var tasks = new[] { 10_000_019L, 10_000_079, 10_000_103, 10_000_129 }.Select(n => pool.IsPrimeAsync(n)).ToArray();
            bool[] verdicts = tasks.Select(t => t.ShouldComplete(NoAnswer)).ToArray();
            verdicts.ShouldBe([true, true, true, false], $"Round {round}: the first three are prime; 10 000 129 = 89 × 112 361 is not.");
        }
    }

    [Test]
    public void Sequential_requests_reuse_one_worker_process()
    {
        PrimePool pool = NewPool(2);
        pool.IsPrimeAsync(7).ShouldComplete(NoAnswer).ShouldBeTrue();
        IReadOnlyList<int> first = WorkerIds(pool);
        first.Count.ShouldBe(
            1,
            "One request, one worker, still alive afterwards: workers start once and are reused (a worker is started only when no " +
            "started worker is idle, and it stays for the next request).");

        for (int i = 0; i < 10; i++)
        {
            pool.IsPrimeAsync(1_000_000_007 + i).ShouldComplete(NoAnswer);
            WorkerIds(pool).ShouldBe(
                first,
                $"After request {i + 2}: workers start once and are reused. Each request that finds an idle worker goes to it; a new " +
                "process per task pays the start-up cost (tens of milliseconds) every time.");
        }
    }

    [Test]
    public void Never_more_worker_processes_than_maxWorkers()
    {
        PrimePool pool = NewPool(2);
        Task<string> first = pool.SendAsync("hold");
        Task<string> second = pool.SendAsync("hold");
        IReadOnlyList<int> ids = WaitForWorkers(pool, 2, "Two requests that keep their workers busy need two workers (maxWorkers is 2).");

        Task<bool> third = pool.IsPrimeAsync(7);
        third.ShouldStayPending(
            "Both workers are busy ('hold' never answers) and maxWorkers is 2, so a third request waits in the queue: a pool has never " +
            "more worker processes than maxWorkers, and one request in flight per worker.",
            TimeSpan.FromMilliseconds(200));
        WorkerIds(pool).Count.ShouldBe(2, "A pool has never more worker processes than maxWorkers: it started a third one.");
        if (OperatingSystem.IsLinux())
        {
            ChildProcesses.RunningChildren().Count.ShouldBe(
                2, "A pool has never more worker processes than maxWorkers: the test process has more than 2 children (some not in WorkerProcessIds).");
        }

        first.IsCompleted.ShouldBeFalse("'hold' is never answered.");
        second.IsCompleted.ShouldBeFalse("'hold' is never answered.");
        ids.Distinct().Count().ShouldBe(2);
    }

    [Test]
    public void Work_spreads_over_the_workers()
    {
        PrimePool pool = NewPool(2);
        Task<string> held = pool.SendAsync("hold");
        WaitForWorkers(pool, 1, "A request needs a worker.");

        pool.IsPrimeAsync(10_000_019).ShouldComplete(
            "One worker is busy with 'hold'; with maxWorkers 2 the next request must go to another worker. Work spreads over the " +
            "workers: a request waits only when every worker is busy and no more may start.")
            .ShouldBeTrue();
        IReadOnlyList<int> ids = WorkerIds(pool);
        ids.Count.ShouldBe(2, "Work spreads over the workers: one busy worker and one more request make two workers.");
        ids.Distinct().Count().ShouldBe(2, "Each worker has its own process id.");
        held.IsCompleted.ShouldBeFalse("'hold' is never answered.");
    }

    [Test]
    public void WorkerProcessIds_are_the_live_worker_processes()
    {
        PrimePool pool = NewPool(2);
        pool.MapAsync([3, 4, 5, 6], chunkSize: 1).ShouldComplete(NoAnswer);
        IReadOnlyList<int> ids = WorkerIds(pool);
        ids.Count.ShouldBeInRange(1, 2, "A pool has never more worker processes than maxWorkers, and WorkerProcessIds lists the live ones.");

        foreach (int id in ids)
        {
            ChildProcesses.IsRunning(id).ShouldBeTrue($"WorkerProcessIds lists {id}, which is not a running process: list the live workers only.");
            ChildProcesses.NameOf(id).ShouldBe("PrimeWorker", $"Process {id} must be a PrimeWorker process: a real OS process, not a thread or a task.");
            if (OperatingSystem.IsLinux())
            {
                ChildProcesses.RunningChildren().ShouldContain(id, $"Process {id} must be a child of the test process: the pool starts it.");
            }
        }
    }

    [Test]
    public void MapAsync_returns_verdicts_in_input_order()
    {
        PrimePool pool = NewPool(2);
        long[] numbers = Oracle.DistinctNumbers(500, seed: 3);
        bool[] expected = numbers.Select(Oracle.IsPrime).ToArray();

        foreach (int chunkSize in new[] { 1, 7, 64, 1000 })
        {
            IReadOnlyList<bool> verdicts = pool.MapAsync(numbers, chunkSize).ShouldComplete(ManyAnswers, BigWork);
            MapVerdicts.ShouldBe(verdicts, expected, chunkSize, $"{numbers.Length} numbers, chunkSize {chunkSize}");
        }
    }

    [Test]
    public void MapAsync_keeps_input_order_when_a_later_chunk_finishes_first()
    {
        // The first chunk is one prime of about 10^14: some 30 ms of trial division. The other chunks are small and
        // go to the second worker, which usually answers them all while the first one is still dividing, so the chunks
        // finish in a different order than they were sent. (If they do not, the test only misses a bug: it never fails
        // correct code. A bigger prime made a loaded machine miss the deadline.)
        PrimePool pool = NewPool(2);
        long[] numbers = [100_000_000_000_031, .. Enumerable.Range(1, 30).Select(i => (long)i)];
        bool[] expected = numbers.Select((n, i) => i == 0 || Oracle.IsPrime(n)).ToArray();

        IReadOnlyList<bool> verdicts = pool.MapAsync(numbers, chunkSize: 3).ShouldComplete(NoAnswer);

        MapVerdicts.ShouldBe(verdicts, expected, 3, $"{numbers.Length} numbers, chunkSize 3, the first chunk finishing last");
    }

    [Test]
    public void MapAsync_rejects_bad_arguments_and_maps_nothing_to_nothing()
    {
        PrimePool pool = NewPool(1);
        TaskExpectations.ThrowsOrFails<ArgumentNullException>(
            () => pool.MapAsync(null!), "MapAsync(null) must throw ArgumentNullException.").ParamName.ShouldBe("numbers");
        foreach (int chunkSize in new[] { 0, -1 })
        {
            TaskExpectations.ThrowsOrFails<ArgumentOutOfRangeException>(
                () => pool.MapAsync([7], chunkSize),
                $"MapAsync with chunkSize {chunkSize} must throw ArgumentOutOfRangeException: a chunk holds at least one number.")
                .ParamName.ShouldBe("chunkSize");
        }

        pool.MapAsync([]).ShouldComplete(NoAnswer).ShouldBeEmpty("No numbers, no verdicts.");
    }

    [Test]
    public void Concurrent_callers_each_get_the_answer_to_their_own_number()
    {
        PrimePool pool = NewPool(2);
        long[] numbers = Oracle.DistinctNumbers(400, seed: 4);
        int callers = Concurrently.Contenders;
        var tasks = new Task<bool>[numbers.Length];

        // Several threads submit at once; each request must be answered with the verdict for its own number.
        Concurrently.Run(
            "caller",
            callers,
            c =>
            {
                for (int i = c; i < numbers.Length; i += callers)
                {
                    tasks[i] = pool.IsPrimeAsync(numbers[i]);
                }
            },
            "IsPrimeAsync must return at once: it queues the request and returns a task; it never waits for a worker.");

        for (int i = 0; i < numbers.Length; i++)
        {
            tasks[i].ShouldComplete(ManyAnswers, BigWork).ShouldBe(
                Oracle.IsPrime(numbers[i]),
                $"IsPrimeAsync({numbers[i]}) got the verdict of another number: replies must match the right request, by id, also when " +
                "many threads submit at once.");
        }
    }

    [Test]
    public void A_reply_bigger_than_the_pipe_buffer_does_not_deadlock()
    {
        // One chunk of 100 000 numbers: a request of about 590 KB and a reply of 100 KB, far beyond a pipe's 64 KB.
        PrimePool pool = NewPool(2);
        long[] numbers = Enumerable.Range(1, 100_000).Select(i => (long)i).ToArray();
        bool[] expected = numbers.Select(Oracle.IsPrime).ToArray();

        foreach (int chunkSize in new[] { 100_000, 30_000 })
        {
            IReadOnlyList<bool> verdicts = pool.MapAsync(numbers, chunkSize).ShouldComplete(
                $"No pipe-buffer deadlock: a request and a reply bigger than the pipe buffer (chunkSize {chunkSize}). Write requests and read " +
                "replies independently and asynchronously: a write that waits for the worker to read must not stop the reading of its " +
                $"replies. {NoAnswer}",
                BigWork);
            MapVerdicts.ShouldBe(verdicts, expected, chunkSize, $"{numbers.Length} numbers, chunkSize {chunkSize}");
        }
    }

    [Test]
    public void A_worker_that_floods_stderr_still_answers()
    {
        PrimePool pool = NewPool(1);
        pool.SendAsync("noise 1000000").ShouldComplete(
            "No pipe-buffer deadlock: the worker wrote 1 MB to stderr, more than a pipe holds (64 KB on Linux). Drain stderr all the " +
            "time (redirect it and read it asynchronously): a full stderr pipe blocks the worker in its write, so it never replies.",
            BigWork)
            .ShouldBe("ok", "SendAsync returns the reply without its id: 'ok' for noise.");
        pool.IsPrimeAsync(7).ShouldComplete($"After the noise, the same worker answers the next request. {NoAnswer}").ShouldBeTrue();
    }

    [Test]
    public void SendAsync_returns_the_reply_without_its_id_and_takes_one_line_only()
    {
        PrimePool pool = NewPool(1);
        pool.SendAsync("check 2,4,97").ShouldComplete(NoAnswer).ShouldBe("ok 101", "SendAsync(\"check 2,4,97\") returns the reply without its id.");

        TaskExpectations.ThrowsOrFails<ArgumentNullException>(() => pool.SendAsync(null!), "SendAsync(null) must throw ArgumentNullException.")
            .ParamName.ShouldBe("request");
        foreach (string twoLines in new[] { "check 7\n1 exit 3", "check 7\r1 exit 3", "check 7\r\n" })
        {
            TaskExpectations.ThrowsOrFails<ArgumentException>(
                () => pool.SendAsync(twoLines),
                "A request is one line: SendAsync must reject a line break ('\\n' or '\\r') with ArgumentException, or the worker would " +
                "read two requests.").ParamName.ShouldBe("request", "Name the bad parameter: new ArgumentException(message, nameof(request)).");
        }

        pool.SendAsync("check 11").ShouldComplete(NoAnswer, diagnosisIfFailed: "A rejected request leaves the pool usable.").ShouldBe("ok 1");
    }

    [Test]
    public void MapAsync_answers_every_number_whatever_the_chunk_size()
    {
        // 28 numbers, the last one prime: chunk sizes that divide the count, that do not (the last chunk is shorter),
        // and that are larger than the whole input (one chunk), up to int.MaxValue (where start + chunkSize overflows).
        PrimePool pool = NewPool(2);
        long[] numbers = [.. Enumerable.Range(2, 28).Select(i => (long)i)];
        bool[] expected = numbers.Select(Oracle.IsPrime).ToArray();

        foreach (int chunkSize in new[] { 1, 5, 27, 28, 29, 1000, int.MaxValue })
        {
            IReadOnlyList<bool> verdicts = pool.MapAsync(numbers, chunkSize).ShouldComplete(ManyAnswers, BigWork);
            MapVerdicts.ShouldBe(verdicts, expected, chunkSize, $"{numbers.Length} numbers, chunkSize {chunkSize}");
        }
    }

    [Test]
    public void MapAsync_sends_chunkSize_numbers_per_message_and_queues_every_chunk_at_once()
    {
        using var fake = FakeWorker.Start(FakeWorker.Scripted);
        PrimePool pool = NewPool(2);
        long[] numbers = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

        IReadOnlyList<bool> verdicts = pool.MapAsync(numbers, chunkSize: 4).ShouldComplete(NoAnswer);

        MapVerdicts.ShouldBe(verdicts, numbers.Select(Oracle.IsPrime).ToArray(), 4, "10 numbers, chunkSize 4");
        string[] messages = ["check 10,11", "check 2,3,4,5", "check 6,7,8,9"];
        fake.RequestsReceived().Order(StringComparer.Ordinal).ShouldBe(
            messages,
            ignoreOrder: false,
            customMessage: "MapAsync sends chunkSize numbers per message, in input order, the last message holding what is left: with chunkSize 4, " +
            "ten numbers are three messages of 4, 4 and 2 numbers. The workers received these requests instead.");

        // Two chunks that the (fake) workers never answer: both go out at once, to two workers.
        PrimePool second = NewPool(2);
        Task<IReadOnlyList<bool>> held = second.MapAsync([FakeWorker.Hold, FakeWorker.Hold], chunkSize: 1);
        WaitForWorkers(
            second,
            2,
            "MapAsync queues its chunks together, and they spread over the workers: two chunks on a pool of two workers start two " +
            "workers at once. Are the chunks sent one after another, each awaited before the next?");
        held.IsCompleted.ShouldBeFalse("Neither chunk is ever answered.");
    }

    [Test]
    public void WorkerProcessIds_is_a_copy_in_start_order()
    {
        PrimePool pool = NewPool(2);
        Task<string> first = pool.SendAsync("hold");
        WaitForWorkers(pool, 1, "A request needs a worker.");
        IReadOnlyList<int> before = pool.WorkerProcessIds;
        int[] seen = [.. before];

        Task<string> second = pool.SendAsync("hold");
        IReadOnlyList<int> after = WaitForWorkers(pool, 2, "Two held requests need two workers.");

        before.ShouldBe(
            seen,
            ignoreOrder: false,
            customMessage: "WorkerProcessIds returns a copy made under the lock: the list it returned earlier changed afterwards, when the pool started " +
            "another worker. That list is the pool's own, escaped: the caller reads it without your lock while the pool writes it.");
        after[0].ShouldBe(seen[0], "WorkerProcessIds lists the workers in the order they started: the first worker first.");
        first.IsCompleted.ShouldBeFalse("'hold' is never answered.");
        second.IsCompleted.ShouldBeFalse("'hold' is never answered.");
    }

    [Test]
    public void Numbers_reach_the_worker_intact_whatever_the_callers_culture()
    {
        // A culture that writes its minus sign as U+2212, as Swedish and Norwegian do: "-7" becomes "−7", which the
        // worker's invariant parsing rejects.
        PrimePool pool = NewPool(1);
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NegativeSign = "\u2212";
        long[] numbers = [long.MinValue, -7, -1, 0, 1, 2, 3, 97, long.MaxValue - 1, long.MaxValue];
        CultureInfo callers = CultureInfo.CurrentCulture;
        Task<bool>[] checks;
        Task<IReadOnlyList<bool>> map;
        CultureInfo.CurrentCulture = culture;
        try
        {
            checks = numbers.Select(n => pool.IsPrimeAsync(n)).ToArray();
            map = pool.MapAsync(numbers, chunkSize: 4);
        }
        finally
        {
            CultureInfo.CurrentCulture = callers;
        }

        const string Rule =
            "Numbers go to the worker in the invariant culture (n.ToString(CultureInfo.InvariantCulture)), from long.MinValue to " +
            "long.MaxValue: in the caller's culture, -7 may be written \"\u22127\" (a Unicode minus sign), a bad number to the worker.";
        for (int i = 0; i < numbers.Length; i++)
        {
            checks[i].ShouldComplete(NoAnswer, diagnosisIfFailed: Rule).ShouldBe(Oracle.IsPrime(numbers[i]), $"IsPrimeAsync({numbers[i]}). {Rule}");
        }

        MapVerdicts.ShouldBe(
            map.ShouldComplete(NoAnswer, diagnosisIfFailed: Rule), numbers.Select(Oracle.IsPrime).ToArray(), 4, "from long.MinValue to long.MaxValue");
    }

    [Test]
    public void Every_call_returns_at_once_while_every_worker_is_busy()
    {
        PrimePool pool = NewPool(1);
        Task<string> held = pool.SendAsync("hold");
        WaitForWorkers(pool, 1, "A request needs a worker.");

        var caller = LearnerThread.Start("caller", () => new Task[] { pool.IsPrimeAsync(7), pool.MapAsync([7, 8], chunkSize: 1), pool.SendAsync("check 9") });
        var tasks = (Task[])caller.ShouldFinish(
            "No member blocks while waiting for a worker: IsPrimeAsync, MapAsync and SendAsync queue their requests and return a task at " +
            "once, also while every worker is busy.")!;

        foreach (Task task in tasks)
        {
            task.IsCompleted.ShouldBeFalse(
                "The only worker is busy ('hold'), and a pool has never more worker processes than maxWorkers (1 here), so each request " +
                "waits in the queue: its task cannot be complete yet.");
        }

        held.IsCompleted.ShouldBeFalse("'hold' is never answered.");
    }

    [Test]
    public void A_continuation_that_calls_back_into_the_pool_does_not_deadlock()
    {
        // The caller's continuation asks to run synchronously, on whatever thread completes the task, and calls the
        // pool again and waits for that answer. If the pool completes tasks inline (on a worker's reply loop, inside
        // its lock), that loop is the one that must read the second answer: it never does.
        PrimePool pool = NewPool(1);
        Task<bool> again = pool.IsPrimeAsync(7).ContinueWith(
            _ =>
            {
                Task<bool> inner = pool.IsPrimeAsync(11);
                return ((IAsyncResult)inner).AsyncWaitHandle.WaitOne(Deadlines.Hang) && inner.IsCompletedSuccessfully && inner.Result;
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

        again.ShouldComplete($"The continuation never finished. {NoAnswer}", deadline: Deadlines.Hang * 2).ShouldBeTrue(
            "A caller's continuation that calls back into the pool and waits for the answer deadlocked: it ran on the pool's reply loop " +
            "(inside its lock), which then could not read the answer. Create every TaskCompletionSource with " +
            "TaskCreationOptions.RunContinuationsAsynchronously, so that no caller's code runs inside the pool.");
    }
}
