namespace ConcurrencyKata.Tests.WorkQueue;

/// <summary>Set-up steps shared by the exercise 01 tests.</summary>
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
            "(Count == Capacity, not Count == Capacity - 1).");
}
