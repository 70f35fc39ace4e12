using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace ConcurrencyKata.Benchmarks;

/// <summary>
/// An Orleans cluster of real silos inside the benchmark process (exercise 05): each silo a host of its own,
/// listening on 127.0.0.1 on free ports, clustered with development clustering (the first silo is the primary), and
/// a cluster client connected to every silo's gateway. No logging: the silos and the client stay silent.
/// </summary>
internal sealed class BenchmarkCluster : IAsyncDisposable
{
    private readonly List<IHost> _silos;
    private readonly IHost _client;

    private BenchmarkCluster(List<IHost> silos, IHost client)
    {
        _silos = silos;
        _client = client;
    }

    /// <summary>The cluster client.</summary>
    public IClusterClient Client => _client.Services.GetRequiredService<IClusterClient>();

    /// <summary>Starts <paramref name="silos"/> silos and a client, and waits until every silo has answered a chunk.</summary>
    public static BenchmarkCluster Start(int silos)
    {
        string clusterId = "kata-05-benchmarks-" + Guid.NewGuid().ToString("N");
        int[] ports = FreePorts(silos * 2);
        var hosts = new List<IHost>();
        for (int i = 0; i < silos; i++)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            int siloPort = ports[2 * i], gatewayPort = ports[(2 * i) + 1];
            builder.UseOrleans(silo => silo.UseLocalhostClustering(siloPort, gatewayPort, new IPEndPoint(IPAddress.Loopback, ports[0]), clusterId, clusterId));
            IHost host = builder.Build();
            host.StartAsync().GetAwaiter().GetResult();
            hosts.Add(host);
        }

        var clientBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        clientBuilder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(Enumerable.Range(0, silos).Select(i => new IPEndPoint(IPAddress.Loopback, ports[(2 * i) + 1])).ToArray());
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = clusterId;
            });
        });
        IHost clientHost = clientBuilder.Build();
        clientHost.StartAsync().GetAwaiter().GetResult();
        var cluster = new BenchmarkCluster(hosts, clientHost);

        // Warm up: enough grain ids that every gateway, and every silo's worker activations, have served a call.
        var client = cluster.Client;
        Task.WhenAll(Enumerable.Range(0, silos * 8).Select(id => client.GetGrain<IPrimeWorkerGrain>(id).CheckAsync([7]))).GetAwaiter().GetResult();
        return cluster;
    }

    /// <summary>Stops the client and every silo, and waits until they are gone.</summary>
    public async ValueTask DisposeAsync()
    {
        await _client.StopAsync().ConfigureAwait(false);
        _client.Dispose();
        foreach (IHost silo in Enumerable.Reverse(_silos))
        {
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await silo.StopAsync(quick.Token).ConfigureAwait(false);
            silo.Dispose();
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }
}
