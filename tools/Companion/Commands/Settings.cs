using System.ComponentModel;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

/// <summary>Options every command understands.</summary>
internal class KataSettings : CommandSettings
{
    [CommandOption("--root <PATH>")]
    [Description("The kata repository (default: the folder holding Concurrency.Kata.sln, from the current folder up).")]
    public string? Root { get; init; }

    [CommandOption("-v|--verbose")]
    [Description("Show dotnet's own output while it runs.")]
    public bool Verbose { get; init; }

    [CommandOption("--deadline <MINUTES>")]
    [Description("Stop dotnet test if it runs longer than this (default 15).")]
    [DefaultValue(15)]
    public int DeadlineMinutes { get; init; } = 15;

    /// <summary>The repository these settings name.</summary>
    public KataRepo Repo() => KataRepo.Find(Root);
}

/// <summary>Options of the commands that show a board.</summary>
internal class BoardSettings : KataSettings
{
    [CommandOption("-e|--exercise <EXERCISE>")]
    [Description("Run only this exercise's tests (01, 1, 01-work-queue or work-queue). Default: every exercise.")]
    public string? Exercise { get; init; }

    [CommandOption("--json")]
    [Description("Print the board as JSON (for dojo scoreboards) instead of drawing it.")]
    public bool Json { get; init; }
}
