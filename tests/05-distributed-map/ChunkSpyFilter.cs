namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>
/// An Orleans incoming grain call filter, installed on every test silo (<see cref="KataSiloConfigurator"/>): it sees
/// every call of <see cref="IPrimeWorkerGrain.CheckAsync"/> on its silo before the worker grain does, records it with
/// the silo's address in <see cref="ChunkSpy"/>, and holds it, fails it, or lets it through, as the test's
/// <see cref="ChunkSpy.Rule"/> says. Your grain is the real one; the filter only wraps it.
/// </summary>
public sealed class ChunkSpyFilter : IIncomingGrainCallFilter
{
    private readonly SiloAddress _silo;

    /// <summary>Created by the silo's dependency injection, with that silo's details.</summary>
    public ChunkSpyFilter(ILocalSiloDetails silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        _silo = silo.SiloAddress;
    }

    /// <inheritdoc/>
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.InterfaceMethod?.DeclaringType != typeof(IPrimeWorkerGrain))
        {
            await context.Invoke();
            return;
        }

        long[] numbers = context.Request.GetArgument(0) is long[] given ? [.. given] : [];
        CancellationToken token = context.Request.GetCancellationToken();
        (ChunkCall? call, ChunkAction action) = ChunkSpy.Arrived(_silo, numbers);
        try
        {
            if (action == ChunkAction.Hold)
            {
                try
                {
                    await call!.WaitForReleaseAsync(token);
                }
                catch (OperationCanceledException)
                {
                    ChunkSpy.Ended(call!, ChunkCallState.Cancelled);
                    throw;
                }

                ChunkSpy.Unheld(call);
            }

            if (action == ChunkAction.Fail)
            {
                throw ChunkSpy.InjectedFailure();
            }

            await context.Invoke();
            ChunkSpy.Ended(call!, ChunkCallState.Answered);
        }
        catch (Exception) when (call!.State == ChunkCallState.Running)
        {
            ChunkSpy.Ended(call, ChunkCallState.Failed);
            throw;
        }
    }
}
