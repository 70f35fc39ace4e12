using System.ComponentModel;
using System.Text.RegularExpressions;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

/// <summary>Options of <c>kata mutate</c> and <c>kata coverage</c>.</summary>
internal sealed class QualitySettings : KataSettings
{
    [CommandArgument(0, "[EXERCISES]")]
    [Description("The exercises (01, 01-work-queue, …). Default: every exercise.")]
    public string[] Exercises { get; init; } = [];
}

/// <summary>What the quality commands share.</summary>
internal static class Quality
{
    /// <summary>The exercises named (every exercise when none is), in number order.</summary>
    public static IReadOnlyList<ExerciseInfo> Exercises(KataRepo repo, IReadOnlyList<string> names) =>
        names.Count == 0 ? repo.Exercises : [.. names.Select(repo.Resolve).Distinct().OrderBy(e => e.Id, StringComparer.Ordinal)];
}
