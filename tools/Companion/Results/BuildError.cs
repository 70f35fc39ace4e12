using System.Globalization;

namespace ConcurrencyKata.Companion;

/// <summary>A compiler (or MSBuild) error from the build that dotnet test ran first.</summary>
internal sealed record BuildError(string? Exercise, string File, int Line, string Code, string Message)
{
    /// <summary>file(line): code: message.</summary>
    public override string ToString() =>
        Line > 0 ? $"{File}({Line.ToString(CultureInfo.InvariantCulture)}): {Code}: {Message}" : $"{File}: {Code}: {Message}";
}
