using BenchmarkDotNet.Attributes;

namespace ConcurrencyKata.Benchmarks;

/// <summary>
/// The article's I/O-bound claim, reproduced in .NET: <see cref="Requests"/> HTTP requests to a loopback Kestrel
/// server that answers each after <see cref="DelayMs"/> ms, made one after another, from one thread each, from one
/// process each (what a pool of processes costs when the work is waiting), and with async/await. Waiting overlaps:
/// threads and async both finish in about one delay, sequential takes the sum, and processes pay their start-up.
/// </summary>
public class IoBoundBenchmarks
{
    /// <summary>How many requests.</summary>
    public const int Requests = 16;

    /// <summary>How long the server waits before answering each.</summary>
    public const int DelayMs = 50;

    private LoopbackServer? _server;
    private HttpClient? _client;

    [GlobalSetup]
    public void StartServer()
    {
        _server = LoopbackServer.Start();
        _client = new HttpClient { BaseAddress = _server.BaseAddress };
    }

    [GlobalCleanup]
    public void StopServer()
    {
        _client?.Dispose();
        _server?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void Sequential()
    {
        for (int i = 0; i < Requests; i++)
        {
            Fetch();
        }
    }

    [Benchmark]
    public void Threads()
    {
        var threads = Enumerable.Range(0, Requests).Select(_ => new Thread(Fetch)).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
    }

    /// <summary>One child process per request: this program started again with <c>--fetch &lt;url&gt;</c>
    /// (<see cref="Program.FetchOnce"/>), all at once, each making its one request and exiting.</summary>
    [Benchmark]
    public void Processes()
    {
        string url = new Uri(_client!.BaseAddress!, $"/delay/{DelayMs}").ToString();
        var children = Enumerable.Range(0, Requests).Select(_ => Program.StartChild("--fetch", url)).ToList();
        foreach (System.Diagnostics.Process child in children)
        {
            child.WaitForExit();
            if (child.ExitCode != 0)
            {
                throw new InvalidOperationException($"A fetching child process exited with {child.ExitCode}.");
            }

            child.Dispose();
        }
    }

    [Benchmark]
    public Task Async() =>
        Task.WhenAll(Enumerable.Range(0, Requests).Select(_ => _client!.GetStringAsync(new Uri($"/delay/{DelayMs}", UriKind.Relative))).ToArray());

    private void Fetch()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/delay/{DelayMs}", UriKind.Relative));
        using HttpResponseMessage response = _client!.Send(request);
        response.EnsureSuccessStatusCode();
    }
}
