// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
namespace ConcurrencyKata;

/// <summary>The <c>--hold</c> test hook of PrimeSilo: every chunk that reaches this silo is held and never answered,
/// and the silo prints <c>holding &lt;first number&gt;</c> on stdout. A test then knows that a chunk is in flight on
/// this silo, and kills it.</summary>
internal sealed class HoldEveryChunk : IIncomingGrainCallFilter
{
    /// <summary>Holds calls to <see cref="IPrimeWorkerGrain.CheckAsync"/>; lets every other call through.</summary>
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.Grain is IPrimeWorkerGrain && context.Request.GetArgument(0) is long[] { Length: > 0 } numbers)
        {
            lock (Console.Out)
            {
                Console.Out.WriteLine($"holding {numbers[0]}");
                Console.Out.Flush();
            }

            await Task.Delay(Timeout.Infinite).ConfigureAwait(false);
        }

        await context.Invoke().ConfigureAwait(false);
    }
}
