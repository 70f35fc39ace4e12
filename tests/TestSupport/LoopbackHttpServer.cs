using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConcurrencyKata.TestSupport;

/// <summary>
/// A real HTTP server for the tests: Kestrel on 127.0.0.1, on a port the OS picks, with httpbin-like endpoints.
/// It counts the requests it is serving right now (<see cref="InFlight"/>) and the most it ever served at once
/// (<see cref="MaxInFlight"/>), so a test proves concurrency by counting, never by timing. Gated endpoints hold
/// their answer until the test opens the gate, one by one.
/// </summary>
/// <remarks>
/// <para>Endpoints (all GET):</para>
/// <list type="bullet">
/// <item><c>/numbers/{list}</c>: answers <c>list</c> itself, e.g. <c>/numbers/7,8,9</c> answers <c>7,8,9</c>.</item>
/// <item><c>/gate/{name}/{list}</c>: holds the request until the test calls <see cref="Open"/> for <c>name</c>,
/// then answers <c>list</c>. A gate opened before the request arrives lets it through at once. A request whose
/// client gives up (a timeout, a cancellation) stops being counted as in flight.</item>
/// <item><c>/gate-body/{name}/{list}</c>: sends the status line and the headers at once, then holds the body like
/// <c>/gate/</c> does: a client that has the headers still waits for the body.</item>
/// <item><c>/delay/{ms}</c> and <c>/delay/{ms}/{list}</c>: answer after <c>ms</c> milliseconds (<c>ok</c>, or <c>list</c>).</item>
/// <item><c>/status/{code}</c>: answers with that status code.</item>
/// </list>
/// <para>Start one per fixture (<see cref="Start"/> in a <c>[OneTimeSetUp]</c>), call <see cref="Reset"/> before
/// each test, and dispose it in the <c>[OneTimeTearDown]</c>: the server stops, and every held request is aborted.</para>
/// <para>Each <see cref="Reset"/> starts a new generation, and the URLs that <see cref="Url"/> builds carry it
/// (<c>/t3/numbers/7</c>). A request of an older generation (learner code of an earlier test that is still running)
/// is answered at once, never held, and never counted: each test counts only its own requests.</para>
/// </remarks>
public sealed class LoopbackHttpServer : IDisposable
{
    /// <summary>The lock protecting <see cref="_gates"/>, <see cref="_inFlight"/>, <see cref="_maxInFlight"/> and
    /// <see cref="_total"/>, so that the counts are always consistent with one another.</summary>
    private readonly object _sync = new();

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _perPath = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _held = new(StringComparer.Ordinal);
    private Dictionary<string, TaskCompletionSource> _gates = new(StringComparer.Ordinal);
    private int _generation;
    private int _inFlight;
    private int _maxInFlight;
    private int _total;

    private LoopbackHttpServer(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The server's address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Requests being served right now (arrived, not yet answered or aborted).</summary>
    public int InFlight
    {
        get
        {
            lock (_sync)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>The most requests that were in flight at once since the last <see cref="Reset"/>.</summary>
    public int MaxInFlight
    {
        get
        {
            lock (_sync)
            {
                return _maxInFlight;
            }
        }
    }

    /// <summary>Requests that arrived since the last <see cref="Reset"/>.</summary>
    public int Requests
    {
        get
        {
            lock (_sync)
            {
                return _total;
            }
        }
    }

    /// <summary>Starts a server, waiting at most <see cref="Deadlines.Hang"/> for it to listen.</summary>
    public static LoopbackHttpServer Start()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        WebApplication app = builder.Build();
        var server = new LoopbackHttpServer(app);
        server.Map();
        if (!app.StartAsync().Wait(Deadlines.Hang))
        {
            throw new InvalidOperationException($"The loopback HTTP server did not start within {Deadlines.Describe(Deadlines.Hang)}.");
        }

        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    /// <summary>An absolute URL on this server, e.g. <c>Url("numbers/7,8")</c>.</summary>
    public Uri Url(string pathAndQuery)
    {
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        int generation;
        lock (_sync)
        {
            generation = _generation;
        }

        return new Uri(BaseAddress, $"t{generation.ToString(CultureInfo.InvariantCulture)}/{pathAndQuery.TrimStart('/')}");
    }

    /// <summary>The URL of <c>/numbers/{list}</c>: answers <paramref name="numbers"/> at once.</summary>
    public Uri Numbers(params long[] numbers) => Url("numbers/" + Join(numbers));

    /// <summary>The URL of <c>/gate/{name}/{list}</c>: answers <paramref name="numbers"/> once gate
    /// <paramref name="name"/> is open.</summary>
    public Uri Gated(string name, params long[] numbers) => Url($"gate/{Uri.EscapeDataString(name)}/{Join(numbers)}");

    /// <summary>The URL of <c>/gate-body/{name}/{list}</c>: answers with the headers at once, and with
    /// <paramref name="numbers"/> as the body once gate <paramref name="name"/> is open.</summary>
    public Uri GatedBody(string name, params long[] numbers) => Url($"gate-body/{Uri.EscapeDataString(name)}/{Join(numbers)}");

    /// <summary>The URL of <c>/status/{code}</c>.</summary>
    public Uri Status(int code) => Url("status/" + code.ToString(CultureInfo.InvariantCulture));

    /// <summary>How many requests for <paramref name="url"/> (its path) arrived since the last <see cref="Reset"/>.</summary>
    public int RequestsFor(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return _perPath.TryGetValue(url.AbsolutePath, out int count) ? count : 0;
    }

    /// <summary>How many requests of this test are waiting at gate <paramref name="name"/> right now.</summary>
    public int HeldAt(string name)
    {
        int generation;
        lock (_sync)
        {
            generation = _generation;
        }

        return _held.TryGetValue(HeldKey(generation, name), out int count) ? count : 0;
    }

    /// <summary>How long the requests a test waits for may take to arrive: <see cref="Deadlines.Hang"/>, never less than
    /// 5 s. The first requests of a test run go through a cold HTTP stack on both sides (the client's and Kestrel's
    /// code is compiled as it first runs), which takes seconds on a busy machine, however short
    /// <c>KATA_DEADLINE_SCALE</c> makes the deadlines that wrong code sits out.</summary>
    private static TimeSpan Arrival => Deadlines.HangAtLeast(TimeSpan.FromSeconds(5));

    /// <summary>Waits until <paramref name="count"/> requests are waiting at gate <paramref name="name"/>, or fails
    /// with <paramref name="diagnosisIfNever"/>.</summary>
    public void ShouldHold(string name, int count, string diagnosisIfNever, TimeSpan? deadline = null) =>
        Poll.Until(
            () => HeldAt(name) >= count,
            () => $"{count} requests at gate '{name}', {HeldAt(name)} there: {diagnosisIfNever} ({InFlightReport()})",
            deadline ?? Arrival);

    /// <summary>Lets the requests held at gate <paramref name="name"/> (and any that arrive later) through.</summary>
    public void Open(string name) => GateOf(name).TrySetResult();

    /// <summary>Opens every gate (held requests go through), forgets the gates, zeroes the counts and starts a new
    /// generation: requests to URLs built before it are no longer counted.</summary>
    public void Reset()
    {
        Dictionary<string, TaskCompletionSource> old;
        lock (_sync)
        {
            old = _gates;
            _gates = new(StringComparer.Ordinal);
            _generation++;
            _inFlight = 0;
            _maxInFlight = 0;
            _total = 0;
            _perPath.Clear();
            _held.Clear();
        }

        foreach (TaskCompletionSource gate in old.Values)
        {
            gate.TrySetResult();
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> requests are in flight, or fails with
    /// <paramref name="diagnosisIfNever"/>.</summary>
    public void ShouldReachInFlight(int count, string diagnosisIfNever, TimeSpan? deadline = null) =>
        Poll.Until(() => InFlight >= count, () => $"{count} requests in flight: {diagnosisIfNever} ({InFlightReport()})", deadline ?? Arrival);

    /// <summary>"3 requests in flight, at most 3 at once, 5 arrived", for failure messages.</summary>
    public string InFlightReport()
    {
        lock (_sync)
        {
            return $"the server saw {_inFlight} request(s) in flight now, at most {_maxInFlight} at once, {_total} arrived in all";
        }
    }

    /// <summary>Stops the server; held requests are aborted.</summary>
    public void Dispose()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        Reset();
        try
        {
            _app.StopAsync(stop.Token).Wait(Deadlines.Hang);
        }
        catch (AggregateException)
        {
            // Stopping was cut short: the connections are aborted anyway.
        }

        ((IDisposable)_app).Dispose();
    }

    private static string Join(long[] numbers) => string.Join(',', numbers.Select(n => n.ToString(CultureInfo.InvariantCulture)));

    private const string GenerationKey = "kata.generation";

    private static string HeldKey(int generation, string name) => generation.ToString(CultureInfo.InvariantCulture) + "/" + name;

    private bool IsCurrent(HttpContext context)
    {
        lock (_sync)
        {
            return context.Items[GenerationKey] is int generation && generation == _generation;
        }
    }

    private TaskCompletionSource GateOf(string name)
    {
        lock (_sync)
        {
            if (!_gates.TryGetValue(name, out TaskCompletionSource? gate))
            {
                gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _gates.Add(name, gate);
            }

            return gate;
        }
    }

    /// <summary>Holds a request of the current generation at gate <paramref name="name"/> until it opens (or the
    /// client gives up), counted in <see cref="HeldAt"/> meanwhile.</summary>
    private async Task HoldAsync(string name, HttpContext context)
    {
        if (!IsCurrent(context))
        {
            return;
        }

        TaskCompletionSource gate = GateOf(name);
        string held = HeldKey((int)context.Items[GenerationKey]!, name);
        _held.AddOrUpdate(held, 1, (_, n) => n + 1);
        try
        {
            await gate.Task.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            _held.AddOrUpdate(held, 0, (_, n) => n - 1);
        }
    }

    private void Map()
    {
        _app.Use(async (context, next) =>
        {
            // "/t<generation>/rest": counted only if it is the current generation; routed as "/rest".
            string path = context.Request.Path.Value ?? "";
            string[] parts = path.Split('/', 3);
            if (parts.Length < 3 || parts[1].Length < 2 || parts[1][0] != 't' ||
                !int.TryParse(parts[1].AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int generation))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            context.Request.Path = "/" + parts[2];
            bool current;
            lock (_sync)
            {
                current = generation == _generation;
                if (current)
                {
                    _inFlight++;
                    _total++;
                    _maxInFlight = Math.Max(_maxInFlight, _inFlight);
                    _perPath.AddOrUpdate(path, 1, (_, n) => n + 1);
                }
            }

            context.Items[GenerationKey] = generation;
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client gave up (timeout, cancellation): nobody is listening for an answer.
            }
            finally
            {
                lock (_sync)
                {
                    if (current && generation == _generation)
                    {
                        _inFlight--;
                    }
                }
            }
        });
        // Routing after the prefix is stripped.
        _app.UseRouting();
        _app.MapGet("/numbers/{list}", (string list) => Results.Text(list));
        _app.MapGet("/gate/{name}/{list}", async (string name, string list, HttpContext context) =>
        {
            await HoldAsync(name, context).ConfigureAwait(false);
            return Results.Text(list);
        });
        _app.MapGet("/gate-body/{name}/{list}", async (string name, string list, HttpContext context) =>
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.StartAsync(context.RequestAborted).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            await HoldAsync(name, context).ConfigureAwait(false);
            await context.Response.WriteAsync(list, context.RequestAborted).ConfigureAwait(false);
        });
        _app.MapGet("/delay/{ms:int}", async (int ms, HttpContext context) =>
        {
            await Task.Delay(ms, context.RequestAborted).ConfigureAwait(false);
            return Results.Text("ok");
        });
        _app.MapGet("/delay/{ms:int}/{list}", async (int ms, string list, HttpContext context) =>
        {
            await Task.Delay(ms, context.RequestAborted).ConfigureAwait(false);
            return Results.Text(list);
        });
        _app.MapGet("/status/{code:int}", (int code) => Results.StatusCode(code));
    }
}
