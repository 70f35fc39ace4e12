using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>
/// Step 4, beyond one process: two silos as OS processes of their own (the PrimeSilo program, on 127.0.0.1), this test
/// process as the cluster client. The second silo holds every chunk it gets (PrimeSilo's <c>--hold</c> hook); once it
/// says so, the test kills it with the operating system, in the middle of the map. The map must still complete,
/// every number exactly once, with the lost chunks answered by the surviving silo. No process outlives the test
/// (<see cref="ChildProcessTest"/>).
/// </summary>
[Step(4)]
[TestFixture]
[NonParallelizable]
[Category(Deadlines.ProcessClusterCategory)]
public sealed class Step4_SiloProcesses : ChildProcessTest
{
    /// <summary>How long a silo process may take to start serving: 60 s (scaled, never below 30 s).</summary>
    private static TimeSpan StartDeadline => ClusterHost.StartStopDeadline;

    /// <summary>How long the map may take after the kill: fresh processes answer their first calls slowly on a busy
    /// machine (each silo still compiles its code), hence a ChunkTimeout of 5 s here; never below 30 s.</summary>
    private static TimeSpan AfterAKill => Deadlines.HangAtLeast(TimeSpan.FromSeconds(30));

    /// <summary>Every silo process this fixture started. The test's tear-down ends them (ChildProcessTest); this list is
    /// the fixture's own safety net, for a test abandoned at its whole-test deadline, whose tear-down never runs.</summary>
    private readonly List<int> _started = [];

    [OneTimeTearDown]
    public void NoSiloProcessOutlivesTheFixture()
    {
        foreach (int pid in _started.Where(ChildProcesses.IsRunning))
        {
            ChildProcesses.Kill(pid);
        }
    }

    [Test]
    public void A_silo_process_killed_by_the_OS_mid_map_loses_no_chunk()
    {
        var options = new DistributedMapOptions { ChunkSize = 5, MaxChunksInFlight = 4, ChunkTimeout = TimeSpan.FromSeconds(5), MaxAttempts = 6 };
        Probes.Map(options);   // the stubs fail here, before any process starts

        int[] ports = FreePorts(4);
        string clusterId = "kata-05-test-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var started = Stopwatch.StartNew();
        TrackedProcess survivor = StartSilo("silo A", ports[0], ports[1], primary: ports[0], clusterId, hold: false);
        TrackedProcess victim = StartSilo("silo B", ports[2], ports[3], primary: ports[0], clusterId, hold: true);
        string survivorAddress = Ready(survivor);
        Ready(victim);
        using IHost client = StartClient(clusterId, ports[1], ports[3]);
        TestContext.Progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"processes: two silo processes and a client started in {started.ElapsedMilliseconds} ms"));
        var map = new DistributedPrimeMap(client.Services.GetRequiredService<IClusterClient>(), options);
        long[] numbers = Oracle.Numbers(80, start: 99_000_000);
        Task<MapResult> mapping = map.MapAsync(numbers);

        string held = victim.ReadLine(
            "Silo B (which holds every chunk it gets) never got one. The map sends each call to a grain id of its own, so the client " +
            "spreads them over both silos' gateways (Step 3).", StartDeadline);
        held.ShouldStartWith("holding ", Case.Sensitive, $"Silo B wrote \"{held}\" instead of saying which chunk it holds.");
        var clock = Stopwatch.StartNew();
        ChildProcesses.Kill(victim.Id);   // SIGKILL: no goodbye, no answer for what it held

        MapResult result = mapping.ShouldComplete(
            "Silo B was killed by the OS while it held chunks, and the map never completed. Give every grain call its own deadline " +
            "(ChunkTimeout), and try a lost attempt again with a new grain id.",
            AfterAKill, "The map failed although silo A could answer every lost chunk.");
        TestContext.Progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"processes: the map completed {clock.ElapsedMilliseconds} ms after silo B was killed"));

        ShouldBeCompleteAndExactlyOnce(result, numbers, options.ChunkSize);
        result.Chunks.ShouldAllBe(c => c.Silo.ToString() == survivorAddress,
            "Silo B answered nothing (it held every chunk until it was killed): every chunk's answer must come from silo A.");
        result.Chunks.ShouldContain(c => c.Attempts >= 2, "Some chunks were lost with silo B, so they took at least two attempts.");

        var stopping = Stopwatch.StartNew();
        client.StopAsync().Wait(StartDeadline);
        survivor.CloseInput();   // PrimeSilo stops cleanly when its stdin ends
        survivor.ShouldExitWithCode(0, "A PrimeSilo whose stdin ends stops its silo and exits with code 0.");
        TestContext.Progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"processes: the client and silo A stopped in {stopping.ElapsedMilliseconds} ms"));
    }

    private static void ShouldBeCompleteAndExactlyOnce(MapResult result, long[] numbers, int chunkSize)
    {
        result.Verdicts.Count.ShouldBe(numbers.Length, "Exactly once: one verdict per number, whatever was retried.");
        result.Verdicts.ShouldBe(Oracle.Verdicts(numbers), "Verdicts come back in input order, each one right.");
        result.Chunks.Select(c => c.Offset).ShouldBe(Enumerable.Range(0, numbers.Length / chunkSize).Select(i => i * chunkSize),
            "One report per chunk, in input order: report each chunk exactly once.");
    }

    private TrackedProcess StartSilo(string name, int siloPort, int gatewayPort, int primary, string clusterId, bool hold)
    {
        string appHost = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "PrimeSilo.exe" : "PrimeSilo");
        if (!File.Exists(appHost))
        {
            Assert.Fail($"The silo program is missing: no {appHost}. The test project references PrimeSilo/PrimeSilo.csproj, a console app.");
        }

        var arguments = new List<string>
        {
            "silo", "--silo-port", siloPort.ToString(CultureInfo.InvariantCulture), "--gateway-port", gatewayPort.ToString(CultureInfo.InvariantCulture),
            "--primary", primary.ToString(CultureInfo.InvariantCulture), "--cluster-id", clusterId,
        };
        if (hold)
        {
            arguments.Add("--hold");
        }

        TrackedProcess silo = TrackedProcess.Start(appHost, name, arguments);
        _started.Add(silo.Id);
        return silo;
    }

    /// <summary>Waits for the silo's "ready &lt;address&gt;" line; returns the address.</summary>
    private static string Ready(TrackedProcess silo)
    {
        string line = silo.ReadLine($"The {silo.Name} process did not say \"ready\": its silo did not start (see its stderr).", StartDeadline);
        line.ShouldStartWith("ready ", Case.Sensitive, $"The {silo.Name} process wrote \"{line}\" before \"ready <silo address>\".");
        return line["ready ".Length..];
    }

    private static IHost StartClient(string clusterId, params int[] gatewayPorts)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(gatewayPorts.Select(p => new IPEndPoint(IPAddress.Loopback, p)).ToArray());
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = clusterId;
            });
        });
        IHost host = builder.Build();
        if (!host.StartAsync().Wait(StartDeadline))
        {
            Assert.Fail($"The cluster client did not connect to the silo processes within {Deadlines.Describe(StartDeadline)}.");
        }

        return host;
    }

    /// <summary><paramref name="count"/> distinct ports free on 127.0.0.1 right now (the OS picks them).</summary>
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
