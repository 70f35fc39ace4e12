using Orleans.Configuration;
using Orleans.TestingHost;

namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>How every silo of the tests' cluster is set up: the <see cref="ChunkSpyFilter"/>, and membership settings
/// that notice a killed silo within seconds. (The test cluster itself binds every silo and gateway to 127.0.0.1, on
/// ports it allocates.)</summary>
public sealed class KataSiloConfigurator : ISiloConfigurator
{
    /// <inheritdoc/>
    public void Configure(ISiloBuilder siloBuilder)
    {
        ArgumentNullException.ThrowIfNull(siloBuilder);
        siloBuilder.AddIncomingGrainCallFilter<ChunkSpyFilter>();
        siloBuilder.Configure<ClusterMembershipOptions>(m =>
        {
            m.ProbeTimeout = TimeSpan.FromSeconds(1);
            m.NumMissedProbesLimit = 2;
            m.NumVotesForDeathDeclaration = 1;
        });
    }
}
