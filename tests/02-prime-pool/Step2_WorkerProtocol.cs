using System.Globalization;

namespace ConcurrencyKata.Tests.PrimePoolTests;

/// <summary>
/// Step 2, the worker's protocol, tested in-process: <see cref="WorkerLoop.Run"/> reads requests from a string and
/// writes replies to a recorder that knows what was flushed when. Fast and precise; Step2_WorkerProcess then runs
/// the real program. See "The protocol" in exercises/02-prime-pool/README.md.
/// </summary>
[Step(2)]
[TestFixture]
public sealed class Step2_WorkerProtocol : ConcurrencyTest
{
    [Test]
    public void A_check_is_answered_with_its_id_and_one_verdict_per_number()
    {
        long[] article = [10_000_019, 10_000_079, 10_000_103, 10_000_129];
        long[] mixed = [2, 3, 4, 9, 97, 10_000_129, -5, 0, 1, long.MaxValue, long.MinValue];
        var worker = InProcessWorker.Run([$"1 check {Join(article)}", $"42 check {Join(mixed)}", "7 check 7"]);

        RepliesShouldBe(
            worker,
            ["1 ok 1110", $"42 ok {Oracle.Verdicts(mixed)}", "7 ok 1"],
            "A check is answered '<id> ok <verdicts>': the request's id, then one character per number, in order: '1' prime, '0' not. " +
            "Every long is a number, from long.MinValue to long.MaxValue: parse with NumberStyles.AllowLeadingSign and the invariant culture.");
        worker.ExitCode.ShouldBe(0, $"At the end of its input the worker returns exit code 0. {EndOfInput}");
    }

    [Test]
    public void Replies_carry_the_id_of_their_own_request_across_hundreds_of_requests()
    {
        // Ids in a shuffled order, each request with its own numbers: a reply can only match if it echoes its
        // request's id. The pool relies on that to match replies to requests when they are batched or arrive late.
        var random = new Random(2);
        long[] numbers = Oracle.DistinctNumbers(900, seed: 2);
        long[] ids = Enumerable.Range(1, 300).Select(i => (long)i * 7919 % 100_003).OrderBy(_ => random.Next()).ToArray();
        var requests = ids.Select((id, i) => (Id: id, Numbers: numbers.Skip(i * 3).Take(1 + (i % 3)).ToArray())).ToList();

        var worker = InProcessWorker.Run(requests.Select(r => $"{r.Id} check {Join(r.Numbers)}"));

        worker.Replies.Length.ShouldBe(requests.Count, "One reply per request, one line each.");
        for (int i = 0; i < requests.Count; i++)
        {
            worker.Replies[i].ShouldBe(
                $"{requests[i].Id} ok {Oracle.Verdicts(requests[i].Numbers)}",
                $"Reply {i + 1} of {requests.Count}: replies carry the id of their request (echo the id you read, do not count), " +
                "with one verdict per number of that request.");
        }
    }

    [Test]
    public void Every_reply_is_flushed_before_the_next_request_is_read()
    {
        var worker = InProcessWorker.Run(["1 check 7", "2 noise 10", "3 check 8,9", "4 bogus", "5 wait", "6 check 11"]);

        for (int read = 1; read < worker.UnflushedAtEachRead.Count; read++)
        {
            worker.UnflushedAtEachRead[read].ShouldBeEmpty(
                $"No unflushed replies: when the worker asked for line {read + 1}, its output still held an unflushed reply. " +
                "Flush after every reply: the pool waits for it, and a reply that sits in a buffer never arrives.");
        }

        worker.UnflushedAtTheEnd.ShouldBeEmpty("No unflushed replies: the last reply was never flushed. Flush after every reply.");
    }

    [Test]
    public void A_malformed_line_gets_an_error_reply_and_the_worker_goes_on()
    {
        var cases = new (string Line, string Reply)[]
        {
            ("", "? error"),
            ("abc check 7", "? error"),
            ("-1 check 7", "? error"),
            ("5", "5 error"),
            ("6 frobnicate 7", "6 error"),
            ("7 check", "7 error"),
            ("8 check 7,x", "8 error"),
            ("9 check 7,,11", "9 error"),
            ("10 check 99999999999999999999", "10 error"),
            ("11 exit soon", "11 error"),
            ("12 noise -5", "12 error"),
        };

        var worker = InProcessWorker.Run(cases.Select(c => c.Line).Append("13 check 7"));

        worker.Replies.Length.ShouldBe(cases.Length + 1, "Every line gets exactly one reply line, a malformed one included.");
        for (int i = 0; i < cases.Length; i++)
        {
            string reply = worker.Replies[i];
            (reply == cases[i].Reply || reply.StartsWith(cases[i].Reply + " ", StringComparison.Ordinal)).ShouldBeTrue(
                $"The line \"{cases[i].Line}\" must get an error reply starting \"{cases[i].Reply}\", but got \"{reply}\". A malformed line " +
                "gets '<id> error <message>', or '? error <message>' when its id is not a whole number of at least 0 (echo the id you read, " +
                "do not count); the worker does not die.");
        }

        worker.Replies[^1].ShouldBe("13 ok 1", $"After the malformed lines the worker goes on: the next good request gets its answer. {EchoTheId}");
    }

    [Test]
    public void At_the_end_of_input_the_loop_returns_exit_code_0()
    {
        InProcessWorker.Run([]).ExitCode.ShouldBe(
            0, "With no input at all, Run returns 0 at once: the end of input is how the pool tells a worker to stop, not an error.");
        var worker = InProcessWorker.Run(["1 check 7", "2 check 8"]);
        worker.ExitCode.ShouldBe(0, $"At the end of its input (ReadLine returns null) the worker exits cleanly, with code 0. {EndOfInput}");
        RepliesShouldBe(worker, ["1 ok 1", "2 ok 0"], "One reply per request.");
    }

    [Test]
    public void Exit_stops_at_once_with_its_code_and_no_reply()
    {
        var worker = InProcessWorker.Run(["1 check 7", "2 exit 42", "3 check 7"]);

        worker.ExitCode.ShouldBe(42, "'<id> exit <code>' is a test hook: the worker stops with that exit code.");
        RepliesShouldBe(worker, ["1 ok 1"], "'exit' gets no reply, and nothing after it is answered.");
        worker.ReadCalls.ShouldBe(2, "After 'exit' the worker stops at once: it must not read another line.");
    }

    [Test]
    public void Hold_answers_nothing_more_until_the_input_ends()
    {
        var worker = InProcessWorker.Run(
            ["1 check 7", "2 hold", "3 check 7", "4 exit 9"],
            "After 'hold', Run never returned although the input ended: 'hold' answers nothing more, but keeps reading (and ignoring) " +
            "lines, so that the worker still notices the end of its input: a pool ends a holding worker gently when its stdin closes.");

        RepliesShouldBe(worker, ["1 ok 1"], "'<id> hold' is a test hook: the worker answers nothing more (not even 'exit') until its input ends.");
        worker.ExitCode.ShouldBe(0, $"A holding worker exits with code 0 when its input ends. {EndOfInput}");
    }

    [Test]
    public void Wait_answers_only_once_the_next_request_has_arrived()
    {
        var worker = InProcessWorker.Run(["1 wait", "2 check 7", "3 wait"]);

        RepliesShouldBe(
            worker,
            ["1 ok", "2 ok 1", "3 ok"],
            "'<id> wait' is a test hook: it is answered '<id> ok' once the next line has arrived (or the input has ended), " +
            "and then that next line is handled as usual.");
        worker.OutputAtEachRead[1].ShouldBeEmpty(
            "'wait' must not answer before the next line arrives: its reply was written before the worker read line 2.");
    }

    [Test]
    public void Noise_goes_to_stderr_and_is_followed_by_an_ok_reply()
    {
        var worker = InProcessWorker.Run(["4 noise 100000", "5 noise 0"]);

        worker.Error.Length.ShouldBe(100_000, "'<id> noise <bytes>' writes exactly that many bytes (ASCII characters) to stderr.");
        RepliesShouldBe(worker, ["4 ok", "5 ok"], "After the noise, the worker replies '<id> ok'.");
    }

    private const string EchoTheId = "Every reply starts with the id of the request it answers: echo the id you read, do not count.";

    private const string EndOfInput = "The end of input is not an error: it is how the pool stops a worker.";

    /// <summary>Requires the worker's replies to be <paramref name="expected"/>; when only the ids differ, says so.</summary>
    private static void RepliesShouldBe(InProcessWorker worker, string[] expected, string rule)
    {
        string[] replies = worker.Replies;
        static string Body(string reply) => reply.IndexOf(' ', StringComparison.Ordinal) is var space and >= 0 ? reply[(space + 1)..] : reply;
        if (replies.Length == expected.Length && !replies.SequenceEqual(expected) && replies.Select(Body).SequenceEqual(expected.Select(Body)))
        {
            Assert.Fail($"The replies were [{string.Join(" | ", replies)}], where [{string.Join(" | ", expected)}] was expected: the right answers " +
                        $"under the wrong ids. {EchoTheId}");
        }

        replies.ShouldBe(expected, ignoreOrder: false, customMessage: rule);
    }

    private static string Join(IEnumerable<long> numbers) => string.Join(',', numbers.Select(n => n.ToString(CultureInfo.InvariantCulture)));
}
