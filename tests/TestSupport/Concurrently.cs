using System.Diagnostics;

namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Runs several pieces of learner code at the same moment, each on its own <see cref="LearnerThread"/>, and waits
/// for all of them with one deadline. The threads are released together by a barrier so that they really overlap
/// (docs/testing.md, rule 10). The first failure wins: one thread throwing ends the wait at once, so a test
/// never sits out a deadline when another thread has already shown the bug.
/// </summary>
public static class Concurrently
{
    /// <summary>A thread count that keeps every core busy and still makes threads compete on a 2-core machine.</summary>
    public static int Contenders { get; } = Math.Max(4, Environment.ProcessorCount * 2);

    /// <summary>
    /// Starts <paramref name="count"/> threads named <c>{name}-0</c> … that each run <paramref name="body"/> with
    /// their index, waits for all of them, and rethrows the first exception on the test thread.
    /// </summary>
    /// <param name="name">Thread name prefix for messages, e.g. "producer".</param>
    /// <param name="count">How many threads.</param>
    /// <param name="body">The work of thread <c>i</c>.</param>
    /// <param name="diagnosisIfStuck">The likely cause if some thread is still blocked at the deadline.</param>
    /// <param name="deadline">Default <see cref="Deadlines.Stress"/>.</param>
    /// <param name="diagnosisIfThrew">The likely cause if a thread throws (other than NotImplementedException).</param>
    public static void Run(
        string name, int count, Action<int> body, string diagnosisIfStuck, TimeSpan? deadline = null, string? diagnosisIfThrew = null) =>
        Run([(name, count, body)], diagnosisIfStuck, deadline, diagnosisIfThrew);

    /// <summary>
    /// Starts several groups of threads at once (for example producers and consumers), all released by one
    /// barrier, and waits for every thread of every group.
    /// </summary>
    /// <param name="groups">Each group: a name prefix, a thread count and the work of thread <c>i</c>.</param>
    /// <param name="diagnosisIfStuck">The likely cause if some thread is still blocked at the deadline.</param>
    /// <param name="deadline">Default <see cref="Deadlines.Stress"/>.</param>
    /// <param name="diagnosisIfThrew">The likely cause if a thread throws (other than NotImplementedException).</param>
    public static void Run(
        IReadOnlyList<(string Name, int Count, Action<int> Body)> groups,
        string diagnosisIfStuck,
        TimeSpan? deadline = null,
        string? diagnosisIfThrew = null)
    {
        ArgumentNullException.ThrowIfNull(groups);
        int total = groups.Sum(g => g.Count);
        using var startTogether = new Barrier(total);
        var threads = new List<LearnerThread>(total);
        foreach ((string groupName, int count, Action<int> body) in groups)
        {
            for (int i = 0; i < count; i++)
            {
                int index = i;
                threads.Add(LearnerThread.Start($"{groupName}-{index}", () =>
                {
                    // The barrier has no deadline of its own: every participant is a fresh thread that reaches it
                    // at once. Learner code runs only after it.
                    startTogether.SignalAndWait();
                    body(index);
                }));
            }
        }

        TimeSpan limit = deadline ?? Deadlines.Stress;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            LearnerThread? failed = threads.FirstOrDefault(t => t.IsFinished && t.Exception is not null);
            if (failed is not null)
            {
                failed.RethrowIfFailed(diagnosisIfThrew);
            }

            if (threads.TrueForAll(t => t.IsFinished))
            {
                return;
            }

            if (clock.Elapsed > limit)
            {
                var stuck = threads.Where(t => !t.IsFinished).Select(t => t.Name).ToList();
                Assert.Fail(
                    $"Deadlock suspected: {stuck.Count} of {total} threads are still blocked after {Deadlines.Describe(limit)} " +
                    $"({Summarize(stuck)}). {diagnosisIfStuck}");
            }

            // Any finished thread is observed within a millisecond or two; this poll is not proof of anything.
            // (The last threads may finish between the check above and this line: then there is none to wait for.)
            threads.Find(t => !t.IsFinished)?.TryJoin(TimeSpan.FromMilliseconds(2));
        }
    }

    private static string Summarize(List<string> names) =>
        names.Count <= 8 ? string.Join(", ", names) : string.Join(", ", names.Take(8)) + $", … ({names.Count - 8} more)";
}
