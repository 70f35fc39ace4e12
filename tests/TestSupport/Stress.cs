using System.Diagnostics;

namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Repeats a stress round until a bug shows or the budget is spent (docs/testing.md, rule 13): bounded by
/// count and by time, stopping at the first failure. Used only where no hook can force the bad interleaving (a data
/// race inside learner code); more rounds give a race more chances to show on a busy machine, and correct code
/// simply spends the budget.
/// </summary>
public static class Stress
{
    /// <summary>The default time budget for one stress test: 1.5 s.</summary>
    public static readonly TimeSpan DefaultBudget = TimeSpan.FromSeconds(1.5);

    /// <summary>Runs <paramref name="round"/> (given its number, from 1) at least once, and again while rounds
    /// remain and the budget is not spent. A failing round throws, which ends the repetition.</summary>
    public static void Repeat(Action<int> round, int maxRounds = 20, TimeSpan? budget = null)
    {
        ArgumentNullException.ThrowIfNull(round);
        var clock = Stopwatch.StartNew();
        TimeSpan limit = budget ?? DefaultBudget;
        for (int i = 1; i <= maxRounds; i++)
        {
            round(i);
            if (clock.Elapsed > limit)
            {
                return;
            }
        }
    }
}
