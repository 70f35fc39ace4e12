namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>
/// An Orleans outgoing grain call filter on the tests' cluster client (<see cref="KataClientConfigurator"/>): it counts
/// the chunk calls your map has in flight, from the moment a call is sent until its answer (or failure, or
/// cancellation) is back. That is the number the back-pressure bound is about.
/// </summary>
public sealed class ClientCallCounter : IOutgoingGrainCallFilter
{
    /// <inheritdoc/>
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.InterfaceMethod?.DeclaringType != typeof(IPrimeWorkerGrain))
        {
            await context.Invoke();
            return;
        }

        int generation = ChunkSpy.ClientSent();
        try
        {
            await context.Invoke();
        }
        finally
        {
            ChunkSpy.ClientEnded(generation);
        }
    }
}
