using System.Diagnostics;
using System.Globalization;
using Orleans.TestingHost;

namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>
/// Starts and stops the tests' real Orleans cluster: Microsoft.Orleans.TestingHost's test cluster, its silos in this
/// process but talking TCP over 127.0.0.1 to each other and to the cluster client, each on ports the test cluster
/// allocates. Every start, stop and kill has a deadline and a named diagnosis (docs/testing.md, rules 4 and 15).
/// </summary>
public static class ClusterHost
{
    /// <summary>How long a cluster may take to start, or to stop: 60 s (scaled by KATA_DEADLINE_SCALE, never below 30 s).</summary>
    public static TimeSpan StartStopDeadline => Max(Deadlines.Scaled(TimeSpan.FromSeconds(60)), TimeSpan.FromSeconds(30));

    /// <summary>Starts a cluster of <paramref name="silos"/> silos and its client, or fails.</summary>
    public static TestCluster Start(short silos)
    {
        var builder = new TestClusterBuilder(silos);
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket;   // real sockets on 127.0.0.1
        builder.Options.ConfigureFileLogging = Environment.GetEnvironmentVariable("KATA_ORLEANS_LOGS") == "1";
        builder.AddSiloBuilderConfigurator<KataSiloConfigurator>();
        builder.AddClientBuilderConfigurator<KataClientConfigurator>();
        TestCluster cluster = builder.Build();

        var clock = Stopwatch.StartNew();
        Task deploy = cluster.DeployAsync();
        if (!Finished(deploy, StartStopDeadline))
        {
            _ = StopAsync(cluster);
            Assert.Fail($"The test cluster of {silos} silos did not start within {Deadlines.Describe(StartStopDeadline)}. The silos listen on " +
                        "127.0.0.1 on ports the test cluster picks: is the machine very busy (KATA_DEADLINE_SCALE=3 stretches every deadline)?");
        }

        if (deploy.Exception?.InnerException is { } failure)
        {
            _ = StopAsync(cluster);
            Assert.Fail($"The test cluster of {silos} silos failed to start: {failure.GetType().Name}: {failure.Message}");
        }

        TestContext.Progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cluster: {silos} silo(s) and a client started in {clock.ElapsedMilliseconds} ms"));
        return cluster;
    }

    /// <summary>Kills every silo and stops the client, within the deadline; reports how long it took.</summary>
    public static void Stop(TestCluster? cluster)
    {
        if (cluster is null)
        {
            return;
        }

        var clock = Stopwatch.StartNew();
        if (!Finished(StopAsync(cluster), StartStopDeadline))
        {
            Assert.Fail($"The test cluster did not stop within {Deadlines.Describe(StartStopDeadline)}: a silo is stuck in its shutdown.");
        }

        TestContext.Progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cluster: stopped in {clock.ElapsedMilliseconds} ms"));
    }

    /// <summary>Kills one silo: an immediate, ungraceful stop of its runtime (a crash, as far as the rest of the cluster
    /// can tell: its connections drop, nothing is handed over). The silo's host is disposed later, with the cluster,
    /// once the test has released what it held there: disposing it now would wait for those held calls.</summary>
    public static void Kill(SiloHandle silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        if (!Finished(silo.StopSiloAsync(stopGracefully: false), StartStopDeadline))
        {
            Assert.Fail($"Killing silo {silo.SiloAddress} did not finish within {Deadlines.Describe(StartStopDeadline)}.");
        }
    }

    private static async Task StopAsync(TestCluster cluster)
    {
        // Ungraceful on purpose: the tests need no handover of activations, and a graceful stop takes seconds per silo.
        await cluster.StopClusterClientAsync().ConfigureAwait(false);
        foreach (SiloHandle silo in cluster.GetActiveSilos().ToList())
        {
            await cluster.KillSiloAsync(silo).ConfigureAwait(false);
        }

        await cluster.DisposeAsync().ConfigureAwait(false);
    }

    private static bool Finished(Task task, TimeSpan deadline)
    {
        try
        {
            return task.Wait(deadline);
        }
        catch (AggregateException)
        {
            return true; // failed: the caller looks at how
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
