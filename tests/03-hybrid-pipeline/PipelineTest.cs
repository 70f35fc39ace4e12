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

    private readonly List<TestCruncher> _crunchers = [];

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
        Server.Reset();
    }

    /// <summary>A test cruncher that the tear-down releases.</summary>
    protected TestCruncher NewCruncher(bool gated = false, Func<Payload, Exception?>? failure = null)
    {
        var cruncher = new TestCruncher(gated, failure);
        _crunchers.Add(cruncher);
        return cruncher;
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

    /// <summary>Requires one result per URL, each at its URL's index.</summary>
    protected static void ShouldHaveOneResultPerUrl(IReadOnlyList<PipelineResult> results, IReadOnlyList<Uri> urls)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(urls);
        results.Count.ShouldBe(urls.Count,
            $"Lost or duplicated results: {urls.Count} URLs went in, {results.Count} results came out. RunAsync returns exactly one result per URL.");
        for (int i = 0; i < urls.Count; i++)
        {
            PipelineResult? result = results[i];
            result.ShouldNotBeNull($"Lost result: there is no result for URL index {i} ({urls[i]}). Every item must end with a result.");
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
