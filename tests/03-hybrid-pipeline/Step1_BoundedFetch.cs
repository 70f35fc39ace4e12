using System.Diagnostics;

namespace ConcurrencyKata.Tests.PipelineTests;

/// <summary>
/// Step 1: ConcurrentFetcher fetches concurrently, never more than MaxConcurrentFetches at once, each request with a
/// timeout of its own; a failing URL becomes a failed result; the caller's cancellation stops every fetch and throws.
/// Concurrency is proven by counting at the server: gated endpoints hold their answers, so the requests in flight can
/// be seen, and released one by one. The permits are checked on every path out of a fetch (success, failure,
/// timeout, cancellation while in flight, cancellation while waiting, a bug): afterwards exactly MaxConcurrentFetches
/// requests fit in flight, not one fewer (a permit kept) and not one more (a permit given back that was never taken).
/// </summary>
[Step(1)]
[TestFixture]
[NonParallelizable]
public sealed class Step1_BoundedFetch : PipelineTest
{
    private const string NeverFinished =
        "FetchAllAsync never completed. Does every fetch release its permit (SemaphoreSlim.Release in a finally) and end, " +
        "also when the request fails or times out?";

    private const string BatchFailed =
        "A failing URL becomes a failed result for that item (FetchResult.Error), not an exception that loses the others.";

    private const string OneAfterAnother =
        "Fetches run concurrently, not one after another: start every fetch first, then await them together (Task.WhenAll).";

    private const string EveryPath =
        "Every fetch must release its permit on every path (success, failure, timeout, cancellation): in a finally around everything " +
        "after WaitAsync.";

    private const string NotStopped =
        "Cancellation stops every fetch: pass the caller's token to WaitAsync (waiting fetches never start) and, through a token " +
        "source linked to it, to GetAsync and to reading the body (running ones are aborted); rethrow when the caller's token is cancelled.";

    [Test]
    public void Bad_options_are_rejected_with_ArgumentOutOfRangeException()
    {
        const string Rule = "The constructor checks the options: MaxConcurrentFetches at least 1, FetchTimeout more than zero; else ArgumentOutOfRangeException.";
        Expect.Throws<ArgumentOutOfRangeException>(() => new ConcurrentFetcher(Client, Options(fetches: 0)), Rule)
            .Message.ShouldContain("MaxConcurrentFetches", Case.Sensitive,
                "The constructor checks the options, and the exception says which one is wrong: its message names MaxConcurrentFetches.");
        Expect.Throws<ArgumentOutOfRangeException>(() => new ConcurrentFetcher(Client, Options(fetches: -1)), Rule);
        Expect.Throws<ArgumentOutOfRangeException>(() => new ConcurrentFetcher(Client, Options(timeout: TimeSpan.Zero)), Rule)
            .Message.ShouldContain("FetchTimeout", Case.Sensitive,
                "The constructor checks the options, and the exception says which one is wrong: its message names FetchTimeout.");
        Expect.Throws<ArgumentOutOfRangeException>(() => new ConcurrentFetcher(Client, Options(timeout: TimeSpan.FromSeconds(-2))), Rule);
        Expect.Throws<ArgumentOutOfRangeException>(() => new ConcurrentFetcher(Client, Options(timeout: TimeSpan.FromTicks(-1))), Rule);
        Expect.Throws<ArgumentNullException>(() => new ConcurrentFetcher(null!, Options()), "A null client throws ArgumentNullException.");
        Expect.Throws<ArgumentNullException>(() => new ConcurrentFetcher(Client, null!), "Null options throw ArgumentNullException.");

        // Timeout.InfiniteTimeSpan (-1 ms) is the one negative value allowed: no timeout at all.
        PipelineOptions infinite = Options(fetches: 1, timeout: Timeout.InfiniteTimeSpan);
        ConcurrentFetcher fetcher;
        try
        {
            fetcher = new ConcurrentFetcher(Client, infinite);
        }
        catch (ArgumentOutOfRangeException rejected)
        {
            Assert.Fail(
                "FetchTimeout = Timeout.InfiniteTimeSpan was rejected, but the options allow it: more than zero, or InfiniteTimeSpan " +
                $"for no timeout at all (\"{rejected.Message}\"). Check `FetchTimeout <= TimeSpan.Zero && FetchTimeout != Timeout.InfiniteTimeSpan`.");
            return;
        }

        fetcher.Options.ShouldBeSameAs(infinite, "Options returns the options the fetcher was created with.");
        FetchResult result = fetcher.FetchOneAsync(3, Server.Numbers(5)).ShouldComplete(
            "With FetchTimeout = Timeout.InfiniteTimeSpan, a request that is answered at once never completed.",
            diagnosisIfFailed: "With FetchTimeout = Timeout.InfiniteTimeSpan there is no timeout at all; the fetch must succeed.");
        result.Error.ShouldBeNull(
            "With FetchTimeout = Timeout.InfiniteTimeSpan there is no timeout at all, but a request answered at once failed: InfiniteTimeSpan " +
            "is -1 ms; CancelAfter(Timeout.InfiniteTimeSpan) never fires, a deadline computed as now + FetchTimeout is in the past.");
        result.Index.ShouldBe(3, "FetchOneAsync copies its index into the result.");
        result.Payload!.Numbers.ShouldBe([5L]);
    }

    [Test]
    public void Bad_arguments_are_rejected_before_anything_is_fetched()
    {
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 2));
        TaskExpectations.ThrowsOrFails<ArgumentNullException>(() => fetcher.FetchAllAsync(null!), "FetchAllAsync(null) throws ArgumentNullException.");
        TaskExpectations.ThrowsOrFails<ArgumentException>(() => fetcher.FetchAllAsync([Server.Numbers(1), null!, Server.Numbers(3)]),
            "FetchAllAsync with a null URL in the list throws ArgumentException.");
        TaskExpectations.ThrowsOrFails<ArgumentNullException>(() => fetcher.FetchOneAsync(0, null!), "FetchOneAsync with a null URL throws ArgumentNullException.");
        Settle.OneSided();
        Server.Requests.ShouldBe(0,
            $"A call rejected for a bad argument must not have fetched anything, but {Server.InFlightReport()}. Check every URL before " +
            "you start the first fetch.");

        // The provided Payload.Parse checks its arguments too.
        Expect.Throws<ArgumentNullException>(() => Payload.Parse(0, null!, "1"), "Payload.Parse with a null URL throws ArgumentNullException.");
        Expect.Throws<ArgumentNullException>(() => Payload.Parse(0, Server.Numbers(1), null!), "Payload.Parse with a null body throws ArgumentNullException.");

        IReadOnlyList<FetchResult> results = fetcher.FetchAllAsync(NumberUrls(2)).ShouldComplete(NeverFinished,
            diagnosisIfFailed: "After calls rejected for bad arguments, the fetcher is still usable.");
        results.Count.ShouldBe(2, "After calls rejected for bad arguments, the fetcher is still usable, and returns one result per URL.");
        fetcher.FetchAllAsync([]).ShouldComplete(NeverFinished).ShouldBeEmpty(
            "No URLs, no results: one result per URL of this call, and nothing left over from an earlier call.");
    }

    [Test]
    public void Every_url_is_fetched_and_each_payload_keeps_its_index()
    {
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 3));
        Uri[] urls = NumberUrls(10);

        // Twice on the same fetcher: nothing may be left over from the first run.
        for (int run = 1; run <= 2; run++)
        {
            IReadOnlyList<FetchResult> results = fetcher.FetchAllAsync(urls).ShouldComplete(NeverFinished, diagnosisIfFailed: BatchFailed);
            results.Count.ShouldBe(urls.Length, $"Run {run}: one result per URL.");
            for (int i = 0; i < urls.Length; i++)
            {
                results[i].Index.ShouldBe(i, $"Run {run}: results keep their input index: result[{i}] says Index {results[i].Index}.");
                results[i].Url.ShouldBe(urls[i], $"Run {run}: results keep their input index: result[{i}] is for another URL.");
                results[i].Error.ShouldBeNull($"Run {run}: fetching {urls[i]} should have succeeded.");
                results[i].Succeeded.ShouldBeTrue($"Run {run}: a fetch with a payload and no error succeeded.");
                results[i].Payload.ShouldNotBeNull($"Run {run}: a successful fetch has a payload.");
                results[i].Payload!.Numbers.ShouldBe(NumbersOf(i), $"Run {run}: the payload of URL {i} holds the numbers of its body (Payload.Parse).");
                results[i].Payload!.Index.ShouldBe(i, $"Run {run}: the payload keeps its input index.");
            }
        }
    }

    [Test]
    public void Never_more_than_MaxConcurrentFetches_requests_are_in_flight()
    {
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 3));
        Uri[] urls = Enumerable.Range(0, 8).Select(i => Server.Gated($"g{i}", i)).ToArray();

        Task<IReadOnlyList<FetchResult>> all = fetcher.FetchAllAsync(urls);
        Server.ShouldReachInFlight(3, "Three requests may be in flight at once, but fewer ever arrived at the server. " + OneAfterAnother);
        string Bound() =>
            $"At most MaxConcurrentFetches (3) requests may be in flight at once, but {Server.InFlightReport()}. Take a permit " +
            "(SemaphoreSlim.WaitAsync, or Parallel.ForEachAsync with MaxDegreeOfParallelism) before each request, not only some of them.";
        Settle.OneSided(TimeSpan.FromMilliseconds(200));
        Server.MaxInFlight.ShouldBeLessThanOrEqualTo(3, Bound());

        // Released one by one: each answer frees one permit, for exactly one more request.
        for (int i = 0; i < urls.Length; i++)
        {
            Server.Open($"g{i}");
            Settle.OneSided();
            Server.MaxInFlight.ShouldBeLessThanOrEqualTo(3, Bound());
        }

        IReadOnlyList<FetchResult> results = all.ShouldComplete(NeverFinished, diagnosisIfFailed: BatchFailed);
        results.Select(r => r.Payload?.Numbers.Single()).ShouldBe(Enumerable.Range(0, 8).Select(i => (long?)i), "Each held URL answered its own number.");
        Server.MaxInFlight.ShouldBeLessThanOrEqualTo(3, Bound());
    }

    [Test]
    public void The_bound_holds_for_the_fetcher_as_a_whole_across_concurrent_calls()
    {
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 2));

        // Two batches and a single fetch at once, on one fetcher: together, never more than 2 requests in flight.
        Task<IReadOnlyList<FetchResult>> first = fetcher.FetchAllAsync([Server.Gated("a", 1), Server.Gated("a", 2), Server.Gated("a", 3)]);
        Task<IReadOnlyList<FetchResult>> second = fetcher.FetchAllAsync([Server.Gated("b", 4), Server.Gated("b", 5)]);
        Task<FetchResult> single = fetcher.FetchOneAsync(9, Server.Gated("c", 6));
        Server.ShouldReachInFlight(2, "Two requests may be in flight at once, but fewer ever arrived at the server. " + OneAfterAnother);
        Settle.OneSided(TimeSpan.FromMilliseconds(200));
        Server.MaxInFlight.ShouldBeLessThanOrEqualTo(2,
            $"At most MaxConcurrentFetches (2) requests may be in flight at once, across calls too. " +
            $"The bound holds for the fetcher as a whole: with MaxConcurrentFetches = 2, two FetchAllAsync calls and a " +
            $"FetchOneAsync at once may have 2 requests in flight together, but {Server.InFlightReport()}. Keep the SemaphoreSlim in a field " +
            "of the fetcher, created once, and take it in FetchOneAsync: not a new one (or a Parallel.ForEachAsync bound) per call.");

        Server.Open("a");
        Server.Open("b");
        Server.Open("c");
        const string OwnResults = "FetchAllAsync returns one result per URL of its own call: the results of a call are a local of that call.";
        first.ShouldComplete(NeverFinished, diagnosisIfFailed: BatchFailed).Count.ShouldBe(3, OwnResults);
        second.ShouldComplete(NeverFinished, diagnosisIfFailed: BatchFailed).Count.ShouldBe(2, OwnResults);
        single.ShouldComplete(NeverFinished, diagnosisIfFailed: BatchFailed).Payload!.Numbers.ShouldBe([6L]);
        Server.MaxInFlight.ShouldBeLessThanOrEqualTo(2, $"The bound holds for the fetcher as a whole, across calls ({Server.InFlightReport()}).");
    }

    [Test]
    public void Fetches_run_concurrently_not_one_after_another()
    {
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 4));
        Uri[] urls = Enumerable.Range(0, 4).Select(i => Server.Gated("held", i)).ToArray();

        Task<IReadOnlyList<FetchResult>> all = fetcher.FetchAllAsync(urls);
        Server.ShouldReachInFlight(4,
            "With MaxConcurrentFetches = 4, four held requests must be in flight together, not one after another: awaiting each " +
            "request before sending the next wastes the time spent waiting. Start the fetches first, then await them all.");

        Server.Open("held");
        all.ShouldComplete(NeverFinished, diagnosisIfFailed: BatchFailed).Count.ShouldBe(4);
    }

    [Test]
    public void A_failing_url_becomes_a_failed_result_and_the_others_still_arrive()
    {
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 2));
        Uri[] urls = [Server.Numbers(2, 3), Server.Status(500), Server.Numbers(5), Server.Status(404), Server.Url("numbers/not-a-number"), Server.Numbers(7)];

        IReadOnlyList<FetchResult> results = fetcher.FetchAllAsync(urls).ShouldComplete(NeverFinished, diagnosisIfFailed: BatchFailed);

        results.Count.ShouldBe(urls.Length, BatchFailed);
        foreach (int i in new[] { 1, 3 })
        {
            results[i].Error.ShouldBeOfType<HttpRequestException>(
                $"URL {i} answered {urls[i].Segments[^1]}: a status code that is not a success is a failed result with the HttpRequestException " +
                "of EnsureSuccessStatusCode.");
            results[i].Payload.ShouldBeNull("A failed result has no payload.");
            results[i].Succeeded.ShouldBeFalse("A failed result did not succeed.");
            results[i].Index.ShouldBe(i);
        }

        results[4].Error.ShouldBeOfType<FormatException>("A body that is not numbers is a failed result with the FormatException of Payload.Parse.")
            .Message.ShouldContain("not-a-number", Case.Sensitive, "The FormatException of Payload.Parse names what it could not read.");
        results[4].Succeeded.ShouldBeFalse("A failed result did not succeed.");
        results[0].Payload!.Numbers.ShouldBe([2L, 3L], BatchFailed);
        results[2].Payload!.Numbers.ShouldBe([5L], BatchFailed);
        results[5].Payload!.Numbers.ShouldBe([7L], BatchFailed);
    }

    [Test]
    public void A_failed_fetch_gives_its_permit_back()
    {
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 2));
        Uri[] urls = [Server.Status(500), Server.Status(503), Server.Gated("after", 1), Server.Gated("after", 2)];

        Task<IReadOnlyList<FetchResult>> all = fetcher.FetchAllAsync(urls);
        Server.ShouldHold("after", 2,
            "After two failed fetches, the two held fetches must both be in flight: a failed fetch must release its permit. " +
            "Release the permit in a finally, so that an exception (EnsureSuccessStatusCode) cannot skip it. (Or the fetches run one " +
            "after another: start them all, then await them together.)");
        Settle.OneSided();
        Server.MaxInFlight.ShouldBeLessThanOrEqualTo(2,
            $"At most MaxConcurrentFetches (2) requests may be in flight at once, but after two failed fetches more were ({Server.InFlightReport()}): " +
            "take a permit before every request, and release exactly once per permit taken, in the finally only (a permit given back " +
            "twice, or never taken, raises the bound).");

        Server.Open("after");
        IReadOnlyList<FetchResult> results = all.ShouldComplete(NeverFinished, diagnosisIfFailed: BatchFailed);
        results[0].Error.ShouldNotBeNull("Status 500 is a failed result.");
        results[3].Payload!.Numbers.ShouldBe([2L]);
    }

    [Test]
    public void A_request_that_is_never_answered_times_out_after_FetchTimeout_and_gives_its_permit_back()
    {
        TimeSpan timeout = TimeSpan.FromMilliseconds(200);
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 1, timeout: timeout));
        Uri never = Server.Gated("never", 1);

        var clock = Stopwatch.StartNew();
        FetchResult result = fetcher.FetchOneAsync(0, never).ShouldComplete(
            "A request that the server never answers must fail after PipelineOptions.FetchTimeout: a per-request timeout " +
            "(a CancellationTokenSource with CancelAfter, linked to the caller's token, passed to GetAsync and to reading the body). " +
            "HttpClient.Timeout is not it: it is one setting for the whole client, and 100 s by default.",
            diagnosisIfFailed:
            "A timeout is a failed result for that URL (FetchResult.Error is a TimeoutException), not a cancellation of the whole batch. " +
            "HttpClient reports a timeout as TaskCanceledException: catch it when your caller's token is not cancelled.");
        clock.Stop();

        result.Error.ShouldBeOfType<TimeoutException>(
            "A request that takes longer than FetchTimeout becomes a failed result with a TimeoutException (per-request timeout).");
        clock.Elapsed.ShouldBeGreaterThanOrEqualTo(timeout * 0.6, "The timeout fired before FetchTimeout had passed.");
        Poll.Until(() => Server.InFlight == 0,
            "The timed-out request is still open at the server: cancel it (pass the timeout's token to GetAsync), do not just stop waiting for it.");
        Server.RequestsFor(never).ShouldBe(1, "A timed-out request is reported, not sent again: each URL is requested once.");

        // With one permit, the next fetch needs the permit of the one that timed out.
        var nextClock = Stopwatch.StartNew();
        FetchResult next = fetcher.FetchOneAsync(1, Server.Numbers(7)).ShouldComplete(
            "With MaxConcurrentFetches = 1, a fetch after one that timed out never started: a timed-out fetch must give its permit back. " +
            EveryPath);
        nextClock.Stop();
        if (next.Error is TimeoutException)
        {
            // Only a machine too slow to answer within 200 ms may make it time out, and then only after its full FetchTimeout.
            nextClock.Elapsed.ShouldBeGreaterThanOrEqualTo(timeout * 0.6,
                $"A fetch started after another one timed out failed with a TimeoutException after {nextClock.ElapsedMilliseconds} ms, before " +
                "its FetchTimeout had passed: each request has its own timeout, started when that request gets its permit, not one for the " +
                "fetcher or the batch.");
        }
        else
        {
            next.Payload.ShouldNotBeNull($"A fetch answered at once failed ({next.Error?.GetType().Name}: {next.Error?.Message}).");
            next.Payload!.Numbers.ShouldBe([7L]);
        }
    }

    [Test]
    public void The_timeout_covers_reading_the_whole_body()
    {
        TimeSpan timeout = TimeSpan.FromMilliseconds(200);
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 1, timeout: timeout));

        // The headers come at once; the body never does.
        FetchResult result = fetcher.FetchOneAsync(0, Server.GatedBody("body", 1, 2)).ShouldComplete(
            "The server sent the headers at once and then nothing: the per-request timeout (FetchTimeout) covers the whole request, from " +
            "sending it to reading the whole body. Pass the timeout's token to reading the body too (ReadAsStringAsync(token)), not only to GetAsync.",
            diagnosisIfFailed:
            "A body that does not come within FetchTimeout is a failed result (TimeoutException), from sending the request to reading the " +
            "whole body: not a cancellation of the whole batch.");
        result.Error.ShouldBeOfType<TimeoutException>(
            "A body that does not come within FetchTimeout makes a failed result with a TimeoutException: the timeout covers reading the whole body.");
        Poll.Until(() => Server.InFlight == 0,
            "The request whose body timed out is still open at the server: pass the timeout's token to reading the body, so it is aborted.");
    }

    [Test]
    public void Each_request_has_its_own_timeout_which_starts_once_it_has_its_permit()
    {
        TimeSpan timeout = TimeSpan.FromMilliseconds(250);
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 1, timeout: timeout));

        // One permit: the second URL waits for the first to time out, the third for the second.
        Uri[] urls = [Server.Gated("never", 1), Server.Gated("never", 2), Server.Numbers(7)];
        var clock = Stopwatch.StartNew();
        IReadOnlyList<FetchResult> results = fetcher.FetchAllAsync(urls).ShouldComplete(
            "FetchAllAsync never completed with two URLs that are never answered and FetchTimeout = 250 ms: a request needs a per-request " +
            "timeout, and a timed-out fetch must give its permit back. " + EveryPath,
            diagnosisIfFailed:
            "A timeout is a failed result for that URL (TimeoutException), not a cancellation of the whole batch: each request has its own " +
            "timeout, per request, started once it has its permit.");
        clock.Stop();

        // With one permit, the timeouts come one after the other: each timed-out fetch held the permit for its own
        // FetchTimeout. (URL 2 answers at once; only a machine too slow to answer within 250 ms makes it time out too.)
        int timedOut = results.Count(r => r.Error is TimeoutException);
        clock.Elapsed.ShouldBeGreaterThanOrEqualTo(timeout * timedOut * 0.6,
            $"{timedOut} fetches timed out, one after the other behind one permit, in {clock.ElapsedMilliseconds} ms in all: less than " +
            $"{timedOut} × FetchTimeout ({timeout.TotalMilliseconds} ms). Each request has its own timeout, started once it has its permit " +
            "(CancelAfter after WaitAsync, in FetchOneAsync): waiting for a permit does not count, and it is not one timeout for the whole " +
            "batch. At most MaxConcurrentFetches (1) requests may be in flight at once: did each request wait for its permit?");
        results[0].Error.ShouldBeOfType<TimeoutException>("URL 0 was never answered: a failed result with a TimeoutException.");
        results[1].Error.ShouldBeOfType<TimeoutException>("URL 1 was never answered: a failed result with a TimeoutException.");
        (results[2].Payload is not null || results[2].Error is TimeoutException).ShouldBeTrue(
            $"URL 2 answers at once, but came back as {results[2].Error?.GetType().Name}: {results[2].Error?.Message}");
    }

    [Test]
    public void Cancelling_a_fetch_in_flight_aborts_it_and_gives_its_permit_back()
    {
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 1, timeout: TimeSpan.FromSeconds(30)));
        using var source = new CancellationTokenSource();

        Task<FetchResult> fetch = fetcher.FetchOneAsync(0, Server.Gated("held", 1), source.Token);
        Server.ShouldHold("held", 1, "The fetch never reached the server.");
        Cancellation.CancelOnOwnThread(source);

        ShouldEndCancelled(fetch, "FetchOneAsync",
            "The caller's cancellation is never a timeout nor a failed result: rethrow the OperationCanceledException when the caller's " +
            "token is cancelled (catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)), and turn only your " +
            "own timeout into a TimeoutException. " + NotStopped, source.Token);
        Poll.Until(() => Server.InFlight == 0,
            "The cancelled request is still open at the server: pass a token linked to the caller's to GetAsync, so that it is aborted.");

        FetchResult next = fetcher.FetchOneAsync(1, Server.Numbers(7)).ShouldComplete(
            "With MaxConcurrentFetches = 1, a fetch after a cancelled one never started: a cancelled fetch must give its permit back. " +
            EveryPath);
        next.Payload!.Numbers.ShouldBe([7L]);
    }

    [Test]
    public void A_fetch_cancelled_while_it_waits_for_a_permit_never_starts_and_gives_back_no_permit()
    {
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 2, timeout: TimeSpan.FromSeconds(30)));
        using var source = new CancellationTokenSource();

        // Both permits are taken by held requests; a third fetch waits for one, and is cancelled while it waits.
        Task<FetchResult> first = fetcher.FetchOneAsync(0, Server.Gated("held", 1));
        Task<FetchResult> second = fetcher.FetchOneAsync(1, Server.Gated("held", 2));
        Server.ShouldHold("held", 2, "Two requests may be in flight at once, but fewer arrived at the server.");
        Task<FetchResult> waiting = fetcher.FetchOneAsync(2, Server.Gated("held", 3), source.Token);
        waiting.ShouldStayPending(
            "At most MaxConcurrentFetches (2) requests may be in flight at once, but FetchOneAsync ended while both permits were taken: it " +
            "must wait for a permit (WaitAsync).");
        Cancellation.CancelOnOwnThread(source);
        ShouldEndCancelled(waiting, "FetchOneAsync (cancelled while waiting for a permit)",
            "A fetch cancelled while it waits for a permit ends with OperationCanceledException: WaitAsync(cancellationToken).", source.Token);

        // It took no permit, so it must give none back: still exactly 2 requests fit in flight, not 3.
        Task<FetchResult> later = fetcher.FetchOneAsync(3, Server.Gated("held", 4));
        Settle.OneSided(TimeSpan.FromMilliseconds(200));
        Server.MaxInFlight.ShouldBeLessThanOrEqualTo(2,
            $"A permit was given back that was never taken: a fetch cancelled while it waited for a permit released one anyway, so the " +
            $"bound grew to 3 ({Server.InFlightReport()}). Await WaitAsync before the try whose finally releases, not inside it: a " +
            "cancelled (or failed) WaitAsync took nothing.");
        Server.RequestsFor(Server.Gated("held", 3)).ShouldBe(0, "A fetch cancelled while it waited for its permit never sends its request.");

        Server.Open("held");
        foreach (Task<FetchResult> fetch in new[] { first, second, later })
        {
            fetch.ShouldComplete(NeverFinished,
                diagnosisIfFailed: "A SemaphoreFullException here means a permit was given back that was never taken: await WaitAsync before the try.")
                .Error.ShouldBeNull("The held requests were answered.");
        }
    }

    [Test]
    public void Cancelling_FetchAllAsync_stops_every_fetch_and_throws_OperationCanceledException()
    {
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 2, timeout: TimeSpan.FromSeconds(30)));
        using var source = new CancellationTokenSource();
        Uri[] urls = Enumerable.Range(0, 6).Select(i => Server.Gated($"g{i}", i)).ToArray();

        Task<IReadOnlyList<FetchResult>> all = fetcher.FetchAllAsync(urls, source.Token);
        Server.ShouldReachInFlight(2, "Two requests may be in flight at once, but fewer arrived at the server. " + OneAfterAnother);
        Cancellation.CancelOnOwnThread(source);

        ShouldEndCancelled(all, "FetchAllAsync", NotStopped, source.Token);
        Server.MaxInFlight.ShouldBeLessThanOrEqualTo(2,
            $"At most MaxConcurrentFetches (2) requests may be in flight at once, but {Server.InFlightReport()}: take a permit before each request.");
        Poll.Until(() => Server.InFlight == 0,
            () => $"The requests in flight when the token was cancelled are still open at the server ({Server.InFlightReport()}): running fetches " +
            "are aborted. " + NotStopped);
        Settle.OneSided();
        Server.Requests.ShouldBe(2, $"After cancellation no new fetch may start, but {Server.InFlightReport()}. {NotStopped}");

        // Already cancelled: nothing is fetched, even for an empty list.
        TaskExpectations.ThrowsOrFails<OperationCanceledException>(() => fetcher.FetchAllAsync(NumberUrls(3), source.Token),
            "FetchAllAsync with a token that is already cancelled throws OperationCanceledException.");
        TaskExpectations.ThrowsOrFails<OperationCanceledException>(() => fetcher.FetchAllAsync([], source.Token),
            "FetchAllAsync with a token that is already cancelled throws OperationCanceledException, even for an empty list: check the token first.");
        Settle.OneSided();
        Server.Requests.ShouldBe(2, $"A token that is already cancelled fetches nothing ({Server.InFlightReport()}).");
    }

    [Test]
    public void An_exception_that_is_not_a_failed_request_is_not_swallowed()
    {
        (HttpClient client, TestHandler handler) = NewClient(bugsAtOnce: true);
        var fetcher = new ConcurrentFetcher(client, Options(fetches: 2));

        // A bug in the client's message handler is not a failed URL: it must not be swallowed into a result.
        const string Escapes =
            "An exception that is not the failure of the request or its body (here a bug in the client's message handler) is not a failed " +
            "result: it escapes. Catch only what a failed request throws (HttpRequestException, IOException, your timeout, FormatException...), " +
            "not every Exception.";
        TaskExpectations.ThrowsOrFails<TestBugException>(() => fetcher.FetchOneAsync(0, Server.Url("bug/1")), Escapes);
        TaskExpectations.ThrowsOrFails<TestBugException>(() => fetcher.FetchAllAsync([Server.Numbers(1), Server.Url("bug/2")]), Escapes);
        handler.BugsThrown.ShouldBe(2);
    }
}
