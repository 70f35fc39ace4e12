using System.Collections.Concurrent;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;

namespace ConcurrencyKata.Benchmarks;

/// <summary>
/// Exercise 01 against the BCL: the kata's <see cref="WorkQueue{T}"/> (lock + Monitor.Wait/PulseAll) beside
/// <see cref="BlockingCollection{T}"/> (the baseline) and a bounded <see cref="Channel{T}"/>, moving
/// <see cref="Items"/> items through a queue of capacity <see cref="Capacity"/> with one producer and one consumer,
/// then four of each. Producers and consumers are dedicated threads, as in the exercise.
/// </summary>
public class QueueBenchmarks
{
    /// <summary>Items moved per operation.</summary>
    public const int Items = 100_000;

    /// <summary>The bound of every queue: small enough that producers do wait for consumers.</summary>
    public const int Capacity = 1_024;

    /// <summary>Producers, and as many consumers.</summary>
    [Params(1, 4)]
    public int Pairs { get; set; }

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    public void BlockingCollection()
    {
        using var queue = new BlockingCollection<int>(Capacity);
        RunPairs(i => queue.Add(i), () => queue.Take());
    }

    [Benchmark(OperationsPerInvoke = Items)]
    public void WorkQueue()
    {
        var queue = new WorkQueue<int>(Capacity);
        RunPairs(i => queue.Put(i), () => queue.Take());
    }

    [Benchmark(OperationsPerInvoke = Items)]
    public void ChannelBlocking()
    {
        // A channel used from threads, the way the other two are: blocking only when it must.
        var channel = Channel.CreateBounded<int>(new BoundedChannelOptions(Capacity) { SingleReader = Pairs == 1, SingleWriter = Pairs == 1 });
        RunPairs(
            i =>
            {
                while (!channel.Writer.TryWrite(i))
                {
                    channel.Writer.WaitToWriteAsync().AsTask().GetAwaiter().GetResult();
                }
            },
            () =>
            {
                int item;
                while (!channel.Reader.TryRead(out item))
                {
                    channel.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult();
                }

                return item;
            });
    }

    [Benchmark(OperationsPerInvoke = Items)]
    public async Task ChannelAsync()
    {
        // The channel as designed: async producers and consumers on the thread pool.
        var channel = Channel.CreateBounded<int>(new BoundedChannelOptions(Capacity) { SingleReader = Pairs == 1, SingleWriter = Pairs == 1 });
        int perThread = Items / Pairs;
        var producers = Enumerable.Range(0, Pairs).Select(async _ =>
        {
            for (int i = 0; i < perThread; i++)
            {
                await channel.Writer.WriteAsync(i).ConfigureAwait(false);
            }
        });
        var consumers = Enumerable.Range(0, Pairs).Select(async _ =>
        {
            for (int i = 0; i < perThread; i++)
            {
                await channel.Reader.ReadAsync().ConfigureAwait(false);
            }
        });
        await Task.WhenAll(producers.Concat(consumers).ToArray()).ConfigureAwait(false);
    }

    private void RunPairs(Action<int> put, Func<int> take)
    {
        int perThread = Items / Pairs;
        var threads = new List<Thread>();
        for (int p = 0; p < Pairs; p++)
        {
            threads.Add(new Thread(() =>
            {
                for (int i = 0; i < perThread; i++)
                {
                    put(i);
                }
            }));
            threads.Add(new Thread(() =>
            {
                for (int i = 0; i < perThread; i++)
                {
                    take();
                }
            }));
        }

        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
    }
}
