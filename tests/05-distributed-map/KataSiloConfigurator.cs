using Orleans.Configuration;
using Orleans.TestingHost;

namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>How every silo of the tests' cluster is set up: the <see cref="ChunkSpyFilter"/>, and membership settings
/// that notice a killed silo within seconds, and a kill that does not wait for held chunks. (The test cluster itself binds every silo and gateway to 127.0.0.1, on
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

        // A killed silo (an ungraceful stop) still waits for its activations' running calls before it is gone, and a chunk
        // held at the test's gate never finishes: without this bound, a kill would take the default deactivation timeout.
        siloBuilder.Configure<GrainCollectionOptions>(o => o.DeactivationTimeout = TimeSpan.FromSeconds(1));
    }
}
