// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
//
// A silo, or a client, as an OS process of its own: the cluster of exercise 05 beyond one process.
//
//   PrimeSilo silo --silo-port 11111 --gateway-port 30000                          the first silo (the primary)
//   PrimeSilo silo --silo-port 11112 --gateway-port 30001 --primary 11111          another one, joining it
//   PrimeSilo map --gateways 30000,30001 --count 200000 --chunk-size 1000          a client that runs a map
//
// Every silo and gateway listens on 127.0.0.1 only, on the ports it is given. A silo prints "ready <silo address>"
// once it serves, and stops cleanly on Ctrl+C or when its stdin ends (how a parent process stops it). Test hook:
// --hold makes the silo keep every chunk it receives and never answer (it prints "holding <first number>"), a chunk
// in flight on a silo that someone is about to kill.
using System.Globalization;
using System.Net;
using ConcurrencyKata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

if (args.Length == 0 || args[0] is not ("silo" or "map"))
{
    Console.Error.WriteLine("usage: PrimeSilo silo --silo-port P --gateway-port G [--primary P0] [--cluster-id ID] [--hold]");
    Console.Error.WriteLine("       PrimeSilo map --gateways G1,G2,... [--count N] [--chunk-size C] [--cluster-id ID]");
    return 2;
}

var options = SiloOptionsParser.Parse(args.Skip(1).ToArray());
return args[0] == "silo" ? await RunSiloAsync(options) : await RunMapAsync(options);

static async Task<int> RunSiloAsync(IReadOnlyDictionary<string, string> options)
{
    int siloPort = SiloOptionsParser.Port(options, "silo-port");
    int gatewayPort = SiloOptionsParser.Port(options, "gateway-port");
    int primaryPort = options.ContainsKey("primary") ? SiloOptionsParser.Port(options, "primary") : siloPort;
    string clusterId = options.GetValueOrDefault("cluster-id", "kata-05");

    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    SiloOptionsParser.LogWarningsToStandardError(builder.Logging);
    builder.UseOrleans(silo =>
    {
        // Development clustering on loopback: the primary silo keeps the membership table; the others join it.
        silo.UseLocalhostClustering(siloPort, gatewayPort, new IPEndPoint(IPAddress.Loopback, primaryPort), clusterId, clusterId);
        silo.Configure<ClusterMembershipOptions>(m =>
        {
            // Notice a killed silo within seconds rather than the default tens of seconds (a demo on one machine).
            m.ProbeTimeout = TimeSpan.FromSeconds(1);
            m.NumMissedProbesLimit = 2;
            m.NumVotesForDeathDeclaration = 1;
        });
        if (options.ContainsKey("hold"))
        {
            silo.AddIncomingGrainCallFilter<HoldEveryChunk>();
        }
    });
    using IHost host = builder.Build();
    await host.StartAsync();
    var local = host.Services.GetRequiredService<ILocalSiloDetails>();
    Console.Out.WriteLine($"ready {local.SiloAddress}");
    Console.Out.Flush();

    // Stop on Ctrl+C, or when a parent process closes our stdin.
    using var stop = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        stop.Cancel();
    };
    if (Console.IsInputRedirected)
    {
        _ = Task.Run(() =>
        {
            while (Console.In.ReadLine() is not null)
            {
            }

            stop.Cancel();
        });
    }

    try
    {
        await Task.Delay(Timeout.Infinite, stop.Token);
    }
    catch (OperationCanceledException)
    {
    }

    using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
    await host.StopAsync(grace.Token);
    return 0;
}

static async Task<int> RunMapAsync(IReadOnlyDictionary<string, string> options)
{
    int[] gateways = options.GetValueOrDefault("gateways", "30000").Split(',').Select(int.Parse).ToArray();
    int count = int.Parse(options.GetValueOrDefault("count", "100000"), CultureInfo.InvariantCulture);
    int chunkSize = int.Parse(options.GetValueOrDefault("chunk-size", "1000"), CultureInfo.InvariantCulture);
    string clusterId = options.GetValueOrDefault("cluster-id", "kata-05");

    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    SiloOptionsParser.LogWarningsToStandardError(builder.Logging);
    builder.UseOrleansClient(client =>
    {
        client.UseStaticClustering(gateways.Select(p => new IPEndPoint(IPAddress.Loopback, p)).ToArray());
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = clusterId;
            o.ServiceId = clusterId;
        });
    });
    using IHost host = builder.Build();
    await host.StartAsync();
    var map = new DistributedPrimeMap(host.Services.GetRequiredService<IClusterClient>(), new DistributedMapOptions { ChunkSize = chunkSize });
    long[] numbers = Enumerable.Range(0, count).Select(i => 1_000_000_000L + i).ToArray();
    var clock = System.Diagnostics.Stopwatch.StartNew();
    MapResult result = await map.MapAsync(numbers);
    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{numbers.Length} numbers in {result.Chunks.Count} chunks, {clock.ElapsedMilliseconds} ms: {result.Verdicts.Count(v => v)} primes"));
    foreach (var silo in result.Chunks.GroupBy(c => c.Silo).OrderBy(g => g.Key.ToString()))
    {
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {silo.Key}: {silo.Count()} chunks"));
    }

    await host.StopAsync();
    return 0;
}
