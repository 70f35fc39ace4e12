using System.Runtime.CompilerServices;

namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>
/// Checks, without a cluster, whether the learner's code has got past its stub: a stub's
/// <see cref="NotImplementedException"/> (naming its step) comes out at once, so that on the stubs every test fails
/// within milliseconds instead of waiting for a cluster to start (the stubs fail fast, as the README promises).
/// Anything else the probe meets (your code is implemented, and needs a real silo) is ignored: the real test then
/// runs on the cluster.
/// </summary>
internal static class Probes
{
    /// <summary>Your <see cref="Primes.IsPrime"/> from exercise 02: every silo runs it.</summary>
    public static void Exercise02()
    {
        try
        {
            _ = Primes.IsPrime(7);
        }
        catch (NotImplementedException notYet) when (notYet.Message.Contains("(exercise 02)", StringComparison.Ordinal))
        {
            throw new NotImplementedException(
                "This exercise checks numbers with your Primes.IsPrime from exercise 02 (PrimeGrains references it), which is not finished yet: " +
                notYet.Message, notYet);
        }
    }

    /// <summary>The worker grain (Step 1): one call on an activation made outside any silo.</summary>
    public static void WorkerGrain()
    {
        Exercise02();
        var grain = (PrimeWorkerGrain)RuntimeHelpers.GetUninitializedObject(typeof(PrimeWorkerGrain));
        Run(() => grain.CheckAsync([7], CancellationToken.None));
    }

    /// <summary>The map (Step 2): its constructor, with no cluster behind it.</summary>
    public static void Map(DistributedMapOptions options)
    {
        Exercise02();
        Run(() =>
        {
            _ = new DistributedPrimeMap(null!, options);
            return Task.CompletedTask;
        });
    }

    private static void Run(Func<Task> call)
    {
        try
        {
            Task task = call();
            if (task.Wait(TimeSpan.FromMilliseconds(200)))
            {
                return;
            }
        }
        catch (NotImplementedException)
        {
            throw;
        }
        catch (AggregateException failed) when (failed.InnerException is NotImplementedException notYet)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(notYet).Throw();
        }
        catch (Exception)
        {
            // Implemented, and needs what only a silo gives: the real test finds out.
        }
    }
}
