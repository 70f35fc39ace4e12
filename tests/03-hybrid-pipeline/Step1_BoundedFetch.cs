using System.Diagnostics;

namespace ConcurrencyKata.Tests.PipelineTests;

/// <summary>
/// Step 1: ConcurrentFetcher fetches concurrently, never more than MaxConcurrentFetches at once, with a timeout per
/// request; a failing URL becomes a failed result. Concurrency is proven by counting at the server: gated endpoints
/// hold their answers, so the requests in flight can be seen, and released one by one.
/// </summary>
[Step(1)]
[TestFixture]
[NonParallelizable]
public sealed class Step1_BoundedFetch : PipelineTest
{
    private const string NeverFinished =
        "FetchAllAsync never completed. Does every fetch give its permit back (SemaphoreSlim.Release in a finally) and end, " +
        "also when the request fails or times out?";

    private const string BatchFailed =
        "A failing URL becomes a failed result for that item (FetchResult.Error), not an exception that loses the others.";

    [Test]
    public void Bad_options_are_rejected_with_ArgumentOutOfRangeException()
    {
        const string Rule = "The constructor checks the options: MaxConcurrentFetches at least 1, FetchTimeout more than zero; else ArgumentOutOfRangeException.";
        Expect.Throws<ArgumentOutOfRangeException>(() => new ConcurrentFetcher(Client, Options(fetches: 0)), Rule);
        Expect.Throws<ArgumentOutOfRangeException>(() => new ConcurrentFetcher(Client, Options(fetches: -1)), Rule);
        Expect.Throws<ArgumentOutOfRangeException>(() => new ConcurrentFetcher(Client, Options(timeout: TimeSpan.Zero)), Rule);
        Expect.Throws<ArgumentOutOfRangeException>(() => new ConcurrentFetcher(Client, Options(timeout: TimeSpan.FromSeconds(-2))), Rule);
        Expect.Throws<ArgumentNullException>(() => new ConcurrentFetcher(null!, Options()), "A null client throws ArgumentNullException.");
        Expect.Throws<ArgumentNullException>(() => new ConcurrentFetcher(Client, null!), "Null options throw ArgumentNullException.");
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
                results[i].Payload.ShouldNotBeNull($"Run {run}: a successful fetch has a payload.");
                results[i].Payload!.Numbers.ShouldBe(NumbersOf(i), $"Run {run}: the payload of URL {i} holds the numbers of its body (Payload.Parse).");
                results[i].Payload!.Index.ShouldBe(i, $"Run {run}: the payload keeps its input index.");
            }
        }

        TaskExpectations.ThrowsOrFails<ArgumentNullException>(() => fetcher.FetchAllAsync(null!), "FetchAllAsync(null) throws ArgumentNullException.");
        fetcher.FetchAllAsync(NumberUrls(2)).ShouldComplete(NeverFinished, diagnosisIfFailed: "After a rejected call the fetcher is still usable.");
    }

    [Test]
    public void Never_more_than_MaxConcurrentFetches_requests_are_in_flight()
    {
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 3));
        Uri[] urls = Enumerable.Range(0, 8).Select(i => Server.Gated($"g{i}", i)).ToArray();

        Task<IReadOnlyList<FetchResult>> all = fetcher.FetchAllAsync(urls);
        Server.ShouldReachInFlight(3, "Three requests may be in flight at once, but fewer ever arrived at the server.");
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
            results[i].Index.ShouldBe(i);
        }

        results[4].Error.ShouldBeOfType<FormatException>("A body that is not numbers is a failed result with the FormatException of Payload.Parse.");
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
            "Release the permit in a finally, so that an exception (EnsureSuccessStatusCode) cannot skip it.");

        Server.Open("after");
        IReadOnlyList<FetchResult> results = all.ShouldComplete(NeverFinished, diagnosisIfFailed: BatchFailed);
        results[0].Error.ShouldNotBeNull("Status 500 is a failed result.");
        results[3].Payload!.Numbers.ShouldBe([2L]);
    }

    [Test]
    public void Each_request_has_a_timeout_and_a_timed_out_fetch_frees_its_permit()
    {
        TimeSpan timeout = TimeSpan.FromMilliseconds(200);
        var fetcher = new ConcurrentFetcher(Client, Options(fetches: 1, timeout: timeout));
        Uri[] urls = [Server.Gated("never", 1), Server.Numbers(7)];

        var clock = Stopwatch.StartNew();
        IReadOnlyList<FetchResult> results = fetcher.FetchAllAsync(urls).ShouldComplete(
            "A request that the server never answers must fail after PipelineOptions.FetchTimeout: a per-request timeout " +
            "(a CancellationTokenSource with CancelAfter, linked to the caller's token, passed to GetAsync and to reading the body). " +
            "HttpClient.Timeout is not it: it is one setting for the whole client, and 100 s by default.",
            diagnosisIfFailed:
            "A timeout is a failed result for that URL (FetchResult.Error is a TimeoutException), not a cancellation of the whole batch. " +
            "HttpClient reports a timeout as TaskCanceledException: catch it when your caller's token is not cancelled.");
        clock.Stop();

        results[0].Error.ShouldBeOfType<TimeoutException>(
            "A request that takes longer than FetchTimeout becomes a failed result with a TimeoutException (per-request timeout).");
        clock.Elapsed.ShouldBeGreaterThanOrEqualTo(timeout * 0.6, "The timeout fired before FetchTimeout had passed.");
        results[1].Payload!.Numbers.ShouldBe([7L],
            "With one permit, the second URL is fetched after the first timed out: a timed-out fetch must give its permit back.");
        Poll.Until(() => Server.InFlight == 0,
            "The timed-out request is still open at the server: cancel it (pass the timeout's token to GetAsync), do not just stop waiting for it.");
    }
}
