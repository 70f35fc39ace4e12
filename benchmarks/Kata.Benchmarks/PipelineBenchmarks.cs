using System.Globalization;
using BenchmarkDotNet.Attributes;

namespace ConcurrencyKata.Benchmarks;

/// <summary>
/// Exercise 03's claim: a streaming fetch-then-crunch pipeline takes about the <em>larger</em> of its two stages,
/// where the article's two-phase version (fetch everything, then crunch everything) takes their <em>sum</em>, and a
/// sequential loop the sum of every latency and every crunch. All three use the same loopback server latency
/// (<see cref="DelayMs"/> per URL, <see cref="MaxConcurrentFetches"/> at once) and the same CPU work
/// (<see cref="PrimePoolCruncher"/>, <see cref="Workers"/> real worker processes, warmed up).
/// </summary>
/// <remarks>
/// <para><see cref="FetchOnly"/> measures the fetch critical path alone, <see cref="CrunchOnly"/> the crunch time
/// alone (the payloads fetched beforehand). The target: <c>Pipeline &lt;= 1.15 × max(FetchOnly, CrunchOnly)</c>.
/// The crunch stage is sized at about half the fetch stage on 2 cores (docs/benchmarks.md explains why perfectly equal
/// stages cannot reach 1.15: the last payload's crunch never overlaps with a fetch).</para>
/// </remarks>
public class PipelineBenchmarks
{
    /// <summary>How many URLs.</summary>
    public const int Urls = 16;

    /// <summary>How long the server waits before answering each URL.</summary>
    public const int DelayMs = 50;

    /// <summary>Requests in flight at once: the fetch critical path is about Urls / MaxConcurrentFetches × DelayMs.</summary>
    public const int MaxConcurrentFetches = 4;

    /// <summary>Worker processes of the crunch stage.</summary>
    public const int Workers = 2;

    /// <summary>Numbers per payload: one prime near 5 × 10^13, about 12 ms of trial division.</summary>
    public const int NumbersPerPayload = 1;

    private LoopbackServer? _server;
    private HttpClient? _client;
    private PrimePoolCruncher? _cruncher;
    private Uri[] _urls = [];
    private Payload[] _payloads = [];
    private PipelineOptions _options = new();

    [GlobalSetup]
    public void Start()
    {
        _server = LoopbackServer.Start();
        _client = new HttpClient();
        _cruncher = new PrimePoolCruncher(Workers);
        _options = new PipelineOptions
        {
            MaxConcurrentFetches = MaxConcurrentFetches,
            BufferCapacity = 4,
            MaxConcurrentCrunches = Workers,
            FetchTimeout = TimeSpan.FromSeconds(30),
        };

        // Each URL its own primes, so no crunch repeats another.
        _urls = Enumerable.Range(0, Urls).Select(i =>
        {
            IEnumerable<long> numbers = Enumerable.Range(0, NumbersPerPayload).Select(k => PrimeNear(50_000_000_000_000L + (((i * NumbersPerPayload) + k) * 1_000_003L)));
            return new Uri(_server.BaseAddress, $"delay/{DelayMs}/{string.Join(',', numbers.Select(n => n.ToString(CultureInfo.InvariantCulture)))}");
        }).ToArray();
        _payloads = new ConcurrentFetcher(_client, _options).FetchAllAsync(_urls).GetAwaiter().GetResult()
            .Select(r => r.Payload ?? throw new InvalidOperationException($"Fetching {r.Url} failed: {r.Error}")).ToArray();

        // Start the workers (and JIT them) before anything is timed.
        Task.WhenAll(_payloads.Take(Workers).Select(p => _cruncher.CrunchAsync(p, CancellationToken.None))).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Stop()
    {
        _cruncher?.Dispose();
        _client?.Dispose();
        _server?.Dispose();
    }

    /// <summary>One URL at a time: fetch it, crunch it, next.</summary>
    [Benchmark(Baseline = true)]
    public async Task<int> Sequential()
    {
        int primes = 0;
        for (int i = 0; i < _urls.Length; i++)
        {
            string body = await _client!.GetStringAsync(_urls[i]).ConfigureAwait(false);
            CrunchResult result = await _cruncher!.CrunchAsync(Payload.Parse(i, _urls[i], body), CancellationToken.None).ConfigureAwait(false);
            primes += result.Primes.Count;
        }

        return primes;
    }

    /// <summary>The article's version: fetch everything (bounded, concurrent), then crunch everything (concurrent).</summary>
    [Benchmark]
    public async Task<int> TwoPhase()
    {
        IReadOnlyList<FetchResult> fetched = await new ConcurrentFetcher(_client!, _options).FetchAllAsync(_urls).ConfigureAwait(false);
        CrunchResult[] results = await Task.WhenAll(fetched.Select(f => _cruncher!.CrunchAsync(f.Payload!, CancellationToken.None))).ConfigureAwait(false);
        return results.Sum(r => r.Primes.Count);
    }

    /// <summary>Exercise 03: the streaming pipeline.</summary>
    [Benchmark]
    public async Task<int> Pipeline()
    {
        IReadOnlyList<PipelineResult> results = await new FetchCrunchPipeline(_client!, _cruncher!, _options).RunAsync(_urls).ConfigureAwait(false);
        return results.Sum(r => r.Crunch?.Primes.Count ?? 0);
    }

    /// <summary>The fetch stage alone: its critical path.</summary>
    [Benchmark]
    public async Task<int> FetchOnly()
    {
        IReadOnlyList<FetchResult> fetched = await new ConcurrentFetcher(_client!, _options).FetchAllAsync(_urls).ConfigureAwait(false);
        return fetched.Count;
    }

    /// <summary>The crunch stage alone, on payloads fetched beforehand.</summary>
    [Benchmark]
    public async Task<int> CrunchOnly()
    {
        CrunchResult[] results = await Task.WhenAll(_payloads.Select(p => _cruncher!.CrunchAsync(p, CancellationToken.None))).ConfigureAwait(false);
        return results.Sum(r => r.Primes.Count);
    }

    /// <summary>The smallest prime at or above <paramref name="from"/>.</summary>
    private static long PrimeNear(long from)
    {
        for (long n = from; ; n++)
        {
            if (Primes.IsPrime(n))
            {
                return n;
            }
        }
    }
}
