namespace ConcurrencyKata.Tests.WorkQueue;

/// <summary>Set-up steps and checks shared by the exercise 01 tests.</summary>
internal static class QueueSetup
{
    /// <summary>Puts <paramref name="items"/> into a queue that has room for all of them. The puts run on a
    /// <see cref="LearnerThread"/>: if one waits, the "is it full?" check is wrong, and the test says so within a
    /// deadline instead of blocking on its own thread.</summary>
    public static void PutWhileThereIsRoom<T>(this WorkQueue<T> queue, params T[] items) =>
        LearnerThread.Start("filler", () =>
        {
            foreach (T item in items)
            {
                queue.Put(item);
            }
        }).ShouldFinish(
            "Put waited although the queue still had room for the item: check the 'is it full?' test " +
            "(Count == Capacity, not Count == Capacity - 1), and that Capacity is the bound given to the constructor.");

    /// <summary>Fails unless <paramref name="exception"/> carries <paramref name="token"/>, the caller's.</summary>
    /// <param name="exception">What the cancelled call threw.</param>
    /// <param name="call">The call, for the message, e.g. "Take".</param>
    /// <param name="token">The token the test passed.</param>
    public static void ShouldCarry(this OperationCanceledException exception, string call, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception.CancellationToken != token)
        {
            Assert.Fail(
                $"{call} threw OperationCanceledException (\"{exception.Message}\") carrying " +
                (exception.CancellationToken == CancellationToken.None ? "no token" : "some other token") +
                $", not the one it was given. {Rules.CarriesTheToken}");
        }
    }

    /// <summary>
    /// Starts a thread that keeps waking every waiter of a queue without ever letting one through: it blocks in
    /// <paramref name="wait"/> with a token that is cancelled a few milliseconds later, again and again, and each
    /// cancellation makes the queue wake all its waiters (the callback every blocking call registers). Stops when
    /// <paramref name="stop"/> is set; returns the number of wake-ups.
    /// </summary>
    /// <param name="name">The thread's name.</param>
    /// <param name="wait">A call that blocks on the queue until its token is cancelled: Take on an empty queue, Put
    /// on a full one.</param>
    /// <param name="stop">Set by the test when enough is enough.</param>
    public static LearnerThread WakeEveryoneAgainAndAgain(string name, Action<CancellationToken> wait, ManualResetEventSlim stop) =>
        LearnerThread.Start(name, () =>
        {
            int wakeUps = 0;
            while (!stop.IsSet)
            {
                using var soon = new CancellationTokenSource(TimeSpan.FromMilliseconds(5));
                try
                {
                    wait(soon.Token);
                }
                catch (OperationCanceledException)
                {
                    wakeUps++;
                }
            }

            return wakeUps;
        });

    /// <summary>
    /// Makes <paramref name="threads"/> threads pass 64 KB items (<see cref="Slab"/>) around through
    /// <paramref name="queue"/>, each round taking one with <paramref name="take"/> and putting it back, then checks
    /// that every item is still there exactly once and whole. The queue never runs empty (there are more items than
    /// threads). The threads are many more than the cores, so the operating system keeps preempting them at any
    /// instruction, very often in the middle of a 64 KB copy into or out of the queue's storage: a path that copies
    /// there without the one lock is overtaken there by another thread, dozens of times in a run.
    /// </summary>
    /// <param name="queue">A new, empty queue.</param>
    /// <param name="take">Takes an item, or returns false (a polling TryTake that found none); the item is then
    /// not put back.</param>
    /// <param name="threads">How many threads.</param>
    /// <param name="rounds">How many items each thread takes and puts back.</param>
    /// <param name="rule">The rule a failure names.</param>
    public static void CirculateLargeItems(WorkQueue<Slab> queue, Func<(bool Took, Slab Item)> take, int threads, int rounds, string rule)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(take);
        int items = (2 * threads) + 4;
        for (int id = 0; id < items; id++)
        {
            queue.Put(Slab.Of(id));
        }

        Concurrently.Run(
            "passer",
            threads,
            _ =>
            {
                for (int round = 0; round < rounds; round++)
                {
                    (bool took, Slab item) = take();
                    if (!took)
                    {
                        continue;
                    }

                    if (!item.IsWhole || item.Id < 0 || item.Id >= items)
                    {
                        throw new InvalidDataException(
                            $"Torn item: the queue returned a mix of two items (it starts with item {item.Id}). Two threads copied " +
                            "into or out of the same slot of the queue's storage at once.");
                    }

                    queue.Put(item);
                }
            },
            $"A thread waited although items were left (the queue never runs empty): items were lost or the count went wrong. {rule}",
            diagnosisIfThrew: $"The queue's internal state was corrupted by two threads at once. {rule}");

        int count = queue.Count;
        var seen = new List<long>();
        for (int i = 0; i < Math.Min(count, items * 2); i++)
        {
            Slab item = queue.Take();
            seen.Add(item.IsWhole ? item.Id : -1);
        }

        long[] duplicated = seen.GroupBy(id => id).Where(g => g.Key >= 0 && g.Count() > 1).Select(g => g.Key).ToArray();
        long[] lost = Enumerable.Range(0, items).Select(id => (long)id).Except(seen).ToArray();
        if (count != items || duplicated.Length > 0 || lost.Length > 0 || seen.Contains(-1))
        {
            Assert.Fail(
                $"{items} items circulated between {threads} threads; afterwards Count was {count}, " +
                (duplicated.Length > 0
                    ? $"item(s) {string.Join(", ", duplicated)} were in the queue twice (two takers read the same head item before either removed it), "
                    : "") +
                (lost.Length > 0 ? $"item(s) {string.Join(", ", lost)} were lost, " : "") +
                (seen.Contains(-1) ? "some came out torn, " : "") +
                $"because two threads changed the queue's storage at once. {rule}");
        }
    }
}
