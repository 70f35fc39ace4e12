using System.Globalization;

namespace ConcurrencyKata.Tests.PrimePoolTests;

/// <summary>
/// Step 2, end to end: the real PrimeWorker program, started as a child process from the test output folder and
/// spoken to over its pipes. The test drains the worker's stdout and stderr on dedicated threads and waits for each
/// reply with a deadline, so these tests never hang, and a worker that dies says why (its stderr). Every process is
/// checked to have exited when the test ends. See exercises/02-prime-pool/README.md.
/// </summary>
[Step(2)]
[TestFixture]
[NonParallelizable]
public sealed class Step2_WorkerProcess : ChildProcessTest
{
    private const string Unflushed =
        "No unflushed replies: the worker must answer each request while its stdin stays open. Flush after every reply " +
        "(stdout is a pipe, so the reply otherwise waits in a buffer until it fills up or the worker exits).";

    private const string EchoTheId = "Every reply starts with the id of the request it answers: echo the id you read, do not count.";

    private const string EndOfInput = "The end of input is not an error: it is how the pool stops a worker.";

    private const string Survives = "A malformed line gets an error reply; the worker does not die.";

    [Test]
    public void The_real_worker_answers_each_request_while_its_stdin_stays_open()
    {
        using TrackedProcess worker = WorkerProgram.Start();

        worker.WriteLine("1 check 10000019,10000079,10000103,10000129");
        worker.ReadLine(Unflushed).ShouldBe("1 ok 1110", $"The article's numbers: the first three are prime, 10 000 129 = 89 × 112 361 is not. {EchoTheId}");
        worker.WriteLine("2 check 7");
        worker.ReadLine(Unflushed).ShouldBe("2 ok 1", $"The same worker answers its next request: it reads line after line. {EchoTheId}");

        worker.CloseInput();
        worker.ShouldExitWithCode(0, $"At the end of its input (stdin closed) the worker exits cleanly, with code 0. {EndOfInput}");
    }

    [Test]
    public void The_real_worker_survives_a_malformed_line()
    {
        using TrackedProcess worker = WorkerProgram.Start();

        worker.WriteLine("this is not a request");
        worker.ReadLine(Unflushed, diagnosisIfGone: Survives).ShouldStartWith(
            "? error", Case.Sensitive, $"A line whose id is unreadable gets '? error <message>'. {EchoTheId}");
        worker.WriteLine("3 check 7,eleven");
        worker.ReadLine(Unflushed, diagnosisIfGone: Survives).ShouldStartWith("3 error", Case.Sensitive, $"A bad number gets '<id> error <message>'. {EchoTheId}");
        worker.ShouldBeRunning(Survives);
        worker.WriteLine("4 check 7");
        worker.ReadLine(Unflushed, diagnosisIfGone: Survives).ShouldBe("4 ok 1", $"After an error reply the worker goes on. {EchoTheId}");
    }

    [Test]
    public void A_reply_bigger_than_the_pipe_buffer_arrives_whole()
    {
        // 100 000 numbers: a request of about 590 KB and a reply of 100 KB, both far beyond a pipe's 64 KB. The
        // test writes on one thread while another drains stdout: neither side waits for the other to finish first.
        long[] numbers = Enumerable.Range(1, 100_000).Select(i => (long)i).ToArray();
        using TrackedProcess worker = WorkerProgram.Start();

        worker.WriteLine("1 check " + string.Join(',', numbers.Select(n => n.ToString(CultureInfo.InvariantCulture))));
        string reply = worker.ReadLine(
            $"{Unflushed} A reply longer than the pipe buffer must still come out whole, as one line.",
            Deadlines.HangAtLeast(TimeSpan.FromSeconds(10)));

        reply.Length.ShouldBe("1 ok ".Length + numbers.Length, "One verdict per number, all on one reply line.");
        reply.ShouldBe("1 ok " + Oracle.Verdicts(numbers), "The verdicts of a big batch, in the order of the numbers.");
    }

    [Test]
    public void Noise_on_stderr_does_not_stop_the_worker()
    {
        using TrackedProcess worker = WorkerProgram.Start();

        worker.WriteLine("1 noise 1000000");
        worker.ReadLine(
            $"{Unflushed} After writing its noise to stderr, the worker replies '<id> ok'.",
            Deadlines.HangAtLeast(TimeSpan.FromSeconds(10))).ShouldBe("1 ok", EchoTheId);
        worker.WriteLine("2 check 8");
        worker.ReadLine(Unflushed).ShouldBe("2 ok 0", EchoTheId);

        worker.CloseInput();
        worker.ShouldExitWithCode(0, $"At the end of its input the worker exits with code 0. {EndOfInput}");
        worker.StandardError.Length.ShouldBe(1_000_000, "'noise 1000000' writes exactly 1 000 000 bytes to stderr.");
    }

    [Test]
    public void Exit_ends_the_real_worker_with_its_code()
    {
        using TrackedProcess worker = WorkerProgram.Start();

        worker.WriteLine("1 check 7");
        worker.ReadLine(Unflushed).ShouldBe("1 ok 1", EchoTheId);
        worker.WriteLine("2 exit 42");
        worker.ShouldExitWithCode(42, "'<id> exit <code>' ends the worker at once with that exit code (Main returns what Run returns).");
        worker.ShouldWriteNothing("'exit' gets no reply.", TimeSpan.Zero);
    }

    [Test]
    public void A_holding_worker_exits_with_code_0_when_its_input_ends()
    {
        using TrackedProcess worker = WorkerProgram.Start();

        worker.WriteLine("1 hold");
        worker.WriteLine("2 check 7");
        worker.ShouldWriteNothing("After 'hold' the worker answers nothing more until its input ends.");
        worker.CloseInput();
        worker.ShouldExitWithCode(0, $"A holding worker exits with code 0 when its stdin closes: that is how a pool ends it gently. {EndOfInput}");
    }
}
