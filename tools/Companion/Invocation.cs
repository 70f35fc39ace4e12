namespace ConcurrencyKata.Companion;

/// <summary>
/// How the learner runs the companion, so that the commands it suggests can be pasted as they are:
/// <c>dotnet kata</c> when it runs as the local tool, <c>dotnet run --project tools/Companion --</c> when it runs from
/// the repository.
/// </summary>
/// <param name="Command">The command that runs the companion, before its arguments.</param>
internal sealed record Invocation(string Command)
{
    /// <summary>The local tool: <c>dotnet kata</c>.</summary>
    public static Invocation LocalTool { get; } = new("dotnet kata");

    /// <summary>From the repository: <c>dotnet run --project tools/Companion --</c>.</summary>
    public static Invocation FromSource { get; } = new("dotnet run --project tools/Companion --");

    /// <summary>How this process was started: a local tool runs from the NuGet package folder (…/kata.companion/…).</summary>
    public static Invocation Detect(string baseDirectory) =>
        baseDirectory.Replace('\\', '/').Contains("/kata.companion/", StringComparison.OrdinalIgnoreCase) ? LocalTool : FromSource;
}
