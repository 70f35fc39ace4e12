namespace ConcurrencyKata.Tests.PipelineTests;

/// <summary>
/// Base class of every exercise 03 fixture: one real HTTP server per fixture (<see cref="LoopbackHttpServer"/>,
/// Kestrel on 127.0.0.1), reset before each test, and one <see cref="HttpClient"/> for it. At tear-down every gate is
/// opened and every test cruncher released, so no learner task stays parked after its test; then
/// <see cref="ChildProcessTest"/> checks that no worker process outlives the test.
/// </summary>
public abstract class PipelineTest : ChildProcessTest
{
    /// <summary>What to check when RunAsync never completes.</summary>
    protected const string RunNeverEnded =
        "RunAsync never completed: a stage is left waiting for a partner that is gone. Does the fetch stage complete the channel's " +
        "writer (Writer.Complete, in a finally) once every fetch is done, also when fetches fail, so that the crunch stage's " +
        "ReadAllAsync ends? Does every failed fetch still end its item?";

    /// <summary>What to check when a run fails instead of completing.</summary>
    protected const string RunFailed =
        "One failure must not sink the batch: a failed fetch becomes a FetchFailed result, a failed crunch a CrunchFailed result; " +
        "RunAsync itself fails only when it is cancelled.";

    /// <summary>What to check when results are lost or duplicated.</summary>
    protected const string SeveralThreads =
        "Results are recorded by several crunch loops (and by the fetch stage, for a failed fetch) at the same time, on different " +
        "threads: List<T>.Add, a Dictionary or a counter without a lock loses or garbles entries when two threads write at once. " +
        "Write each result into its own slot of an array (results[payload.Index] = ...: one writer per slot needs no lock), or lock " +
        "around the shared collection. (Or a payload never reached the channel: a WriteAsync that is not awaited fails, unseen, once " +
        "the writer is completed.)";

    private readonly List<TestCruncher> _crunchers = [];
    private readonly List<(HttpClient Client, TestHandler Handler)> _clients = [];

    /// <summary>The fixture's server.</summary>
    protected LoopbackHttpServer Server { get; private set; } = null!;

    /// <summary>The fixture's client (default timeout: 100 s, longer than any deadline, so it never hides a missing
    /// per-request timeout).</summary>
    protected HttpClient Client { get; private set; } = null!;

    [OneTimeSetUp]
    public void StartServer()
    {
        Server = LoopbackHttpServer.Start();
        Client = new HttpClient();
    }

    [OneTimeTearDown]
    public void StopServer()
    {
        Client?.Dispose();
        Server?.Dispose();
    }

    [SetUp]
    public void ResetServer() => Server.Reset();

    [TearDown]
    public void ReleaseEverything()
    {
        foreach (TestCruncher cruncher in _crunchers)
        {
            cruncher.ReleaseAll();
        }

        _crunchers.Clear();
        foreach ((HttpClient client, TestHandler handler) in _clients)
        {
            handler.ReleaseAll();
            client.Dispose();
        }

        _clients.Clear();
        Server.Reset();
    }

    /// <summary>A test cruncher that the tear-down releases.</summary>
    protected TestCruncher NewCruncher(bool gated = false, Func<Payload, Exception?>? failure = null, bool slowToStop = false)
    {
        var cruncher = new TestCruncher(gated, failure, slowToStop);
        _crunchers.Add(cruncher);
        return cruncher;
    }

    /// <summary>A client of its own, whose <see cref="TestHandler"/> answers <c>/bug/</c>, <c>/stubborn/</c> and
    /// <c>/memory/</c> URLs itself; the tear-down releases the handler and disposes the client.</summary>
    protected (HttpClient Client, TestHandler Handler) NewClient(bool bugsAtOnce = false)
    {
        var handler = new TestHandler(bugsAtOnce);
        var client = new HttpClient(handler);
        _clients.Add((client, handler));
        return (client, handler);
    }

    /// <summary>Options with the given bounds and a 10 s fetch timeout.</summary>
    protected static PipelineOptions Options(int fetches = 4, int buffer = 4, int crunches = 2, TimeSpan? timeout = null) => new()
    {
        MaxConcurrentFetches = fetches,
        BufferCapacity = buffer,
        MaxConcurrentCrunches = crunches,
        FetchTimeout = timeout ?? TimeSpan.FromSeconds(10),
    };

    /// <summary>URLs of <c>/numbers/...</c>, each with its own numbers: index i answers i*100+1 ... i*100+7.</summary>
    protected Uri[] NumberUrls(int count) =>
        Enumerable.Range(0, count).Select(i => Server.Numbers(NumbersOf(i))).ToArray();

    /// <summary>The numbers that <see cref="NumberUrls"/> gives index <paramref name="index"/>.</summary>
    protected static long[] NumbersOf(int index) => Enumerable.Range(1, 7).Select(k => (index * 100L) + k).ToArray();

    /// <summary>Runs the pipeline with a deadline; returns its results.</summary>
    protected static IReadOnlyList<PipelineResult> Run(FetchCrunchPipeline pipeline, IReadOnlyList<Uri> urls, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        return pipeline.RunAsync(urls, cancellationToken).ShouldComplete(RunNeverEnded, diagnosisIfFailed: RunFailed);
    }

    /// <summary>
    /// Requires <paramref name="task"/> (of <paramref name="what"/>, e.g. "RunAsync") to end, within the deadline,
    /// with an <see cref="OperationCanceledException"/> that carries <paramref name="token"/>, the caller's token: not
    /// with a result, not with another exception, not with a token of its own. A stub's NotImplementedException passes
    /// through.
    /// </summary>
    protected static OperationCanceledException ShouldEndCancelled(Task task, string what, string diagnosis, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(task);
        bool ended;
        try
        {
            ended = task.Wait(Deadlines.Hang, CancellationToken.None);
        }
        catch (AggregateException)
        {
            ended = true;
        }

        if (!ended)
        {
            Assert.Fail($"{what} has not ended {Deadlines.Describe(Deadlines.Hang)} after its token was cancelled. {diagnosis}");
        }

        OperationCanceledException? cancelled = null;
        try
        {
            task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException e)
        {
            cancelled = e;
        }
        catch (NotImplementedException)
        {
            throw;
        }
        catch (Exception e)
        {
            Assert.Fail(
                $"{what} failed with {e.GetType().Name} (\"{e.Message}\") after its token was cancelled; it must end with OperationCanceledException. " +
                (e is SemaphoreFullException
                    ? "SemaphoreFullException: a permit was given back that was never taken. Release only after WaitAsync has returned: await it before the try whose finally releases. "
                    : "") +
                diagnosis);
        }

        if (cancelled is null)
        {
            string returned = task.GetType().GetProperty("Result")?.GetValue(task) is System.Collections.IEnumerable items
                ? $" with {items.Cast<object?>().Count()} result(s): " + string.Join(", ", items.Cast<object?>().Take(6).Select(Describe))
                : "";
            Assert.Fail(
                $"{what} completed normally{returned} after its token was cancelled. The caller's cancellation is never a timeout nor a failed " +
                $"result: {what} ends with OperationCanceledException. {diagnosis}");
        }

        if (cancelled!.CancellationToken != token)
        {
            Assert.Fail(
                $"{what} ended with an OperationCanceledException that does not carry the caller's token (its CancellationToken is " +
                $"{(cancelled.CancellationToken == CancellationToken.None ? "CancellationToken.None" : "another token, of your own")}). " +
                "Callers tell their cancellation from other failures by that token: when the caller's token is cancelled, throw " +
                "new OperationCanceledException(message, inner, cancellationToken) (or call cancellationToken.ThrowIfCancellationRequested()).");
        }

        return cancelled;

        static string Describe(object? item) => item switch
        {
            FetchResult f => f.Error is null ? $"[{f.Index}] ok" : $"[{f.Index}] {f.Error.GetType().Name}",
            PipelineResult p => $"[{p.Index}] {p.Status}{(p.Error is null ? "" : " " + p.Error.GetType().Name)}",
            _ => $"{item}",
        };
    }

    /// <summary>Requires one result per URL, each at its URL's index.</summary>
    protected static void ShouldHaveOneResultPerUrl(IReadOnlyList<PipelineResult> results, IReadOnlyList<Uri> urls)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(urls);
        results.Count.ShouldBe(urls.Count,
            $"Lost or duplicated results: {urls.Count} URLs went in, {results.Count} results came out. RunAsync returns exactly one result per URL. " +
            SeveralThreads);
        for (int i = 0; i < urls.Count; i++)
        {
            PipelineResult? result = results[i];
            result.ShouldNotBeNull($"Lost result: there is no result for URL index {i} ({urls[i]}). Every item must end with a result. {SeveralThreads}");
            result.Index.ShouldBe(i,
                $"Results keep their input index: result[{i}] says Index {result.Index}. Put each result at its payload's Index, not in the order the crunches finish.");
            result.Url.ShouldBe(urls[i], $"Results keep their input index: result[{i}] is for {result.Url}, but URL {i} is {urls[i]}.");
        }
    }

    /// <summary>Requires result <paramref name="index"/> to be a success with the primes among <paramref name="numbers"/>.</summary>
    protected static void ShouldHaveSucceeded(IReadOnlyList<PipelineResult> results, int index, long[] numbers)
    {
        ArgumentNullException.ThrowIfNull(results);
        PipelineResult result = results[index];
        result.Status.ShouldBe(ItemStatus.Succeeded,
            $"Item {index} should have succeeded, but is {result.Status} ({result.Error?.GetType().Name}: {result.Error?.Message}).");
        result.Crunch.ShouldNotBeNull($"Item {index} succeeded, so its Crunch result must be set.");
        result.Crunch.Primes.ShouldBe(Oracle.Primes(numbers),
            $"Item {index}'s crunch result is not the primes among its own payload's numbers: results keep their input index, and each payload is crunched exactly once.");
        result.Error.ShouldBeNull($"Item {index} succeeded, so it has no Error.");
    }
}
