using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConcurrencyKata.Benchmarks;

/// <summary>
/// The benchmarks' loopback Kestrel server (127.0.0.1, a port the OS picks), shared by every benchmark that needs
/// server latency: <c>/delay/{ms}</c> answers <c>ok</c> after <c>ms</c> milliseconds, and <c>/delay/{ms}/{list}</c>
/// answers <c>list</c> (a payload of numbers) after <c>ms</c> milliseconds. The tests have their own, instrumented
/// server (tests/TestSupport/LoopbackHttpServer.cs); this one only waits and answers.
/// </summary>
public sealed class LoopbackServer : IDisposable
{
    private readonly WebApplication _app;

    private LoopbackServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>The server's address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Starts a server and waits until it listens.</summary>
    public static LoopbackServer Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        WebApplication app = builder.Build();
        app.MapGet("/delay/{ms:int}", async (int ms) =>
        {
            await Task.Delay(ms).ConfigureAwait(false);
            return Results.Text("ok");
        });
        app.MapGet("/delay/{ms:int}/{list}", async (int ms, string list) =>
        {
            await Task.Delay(ms).ConfigureAwait(false);
            return Results.Text(list);
        });
        app.StartAsync().GetAwaiter().GetResult();
        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new LoopbackServer(app, new Uri(address.EndsWith('/') ? address : address + "/"));
    }

    /// <summary>Stops the server.</summary>
    public void Dispose()
    {
        _app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)_app).Dispose();
    }
}
