using System.Text.Json;

namespace ConcurrencyKata.Companion;

/// <summary>Shared JSON options.</summary>
internal static class JsonOptions
{
    /// <summary>camelCase, indented, enums as strings.</summary>
    public static JsonSerializerOptions Indented { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        // Failure messages stay readable in the JSON (a board is never embedded in HTML).
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
