using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;

namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>How the tests' cluster client is set up: the <see cref="ClientCallCounter"/>.</summary>
public sealed class KataClientConfigurator : IClientBuilderConfigurator
{
    /// <inheritdoc/>
    public void Configure(IConfiguration configuration, IClientBuilder clientBuilder)
    {
        ArgumentNullException.ThrowIfNull(clientBuilder);
        clientBuilder.AddOutgoingGrainCallFilter<ClientCallCounter>();
    }
}
