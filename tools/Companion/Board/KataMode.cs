using System.Text.Json.Serialization;

namespace ConcurrencyKata.Companion;

/// <summary>Which code the tests build against.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<KataMode>))]
internal enum KataMode
{
    /// <summary>exercises/ (learner mode, the default of dotnet test).</summary>
    [JsonStringEnumMemberName("learner")]
    Learner,

    /// <summary>solutions/ (reference mode, -p:KataTarget=solutions).</summary>
    [JsonStringEnumMemberName("reference")]
    Reference,
}

/// <summary>What a mode means on disk.</summary>
internal static class KataModeExtensions
{
    /// <summary>The folder the mode builds against, and the name of its bin/ and obj/ subfolders: exercises or solutions.</summary>
    public static string Folder(this KataMode mode) => mode == KataMode.Learner ? "exercises" : "solutions";
}
