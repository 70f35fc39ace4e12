using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ConcurrencyKata.Companion;

/// <summary>
/// An exercise's progressive hints, read from its HINTS.md: <c>### Step N</c> sections holding
/// <c>&lt;details&gt;&lt;summary&gt;Hint K&lt;/summary&gt; … &lt;/details&gt;</c> blocks, in order.
/// </summary>
internal static partial class Hints
{
    /// <summary>The hints of each step, in order, as markdown text.</summary>
    public static IReadOnlyDictionary<int, IReadOnlyList<string>> Read(string hintsFile)
    {
        var result = new Dictionary<int, IReadOnlyList<string>>();
        if (!File.Exists(hintsFile))
        {
            return result;
        }

        int? step = null;
        List<string>? current = null;
        var body = new List<string>();
        bool inHint = false;
        foreach (var raw in File.ReadLines(hintsFile))
        {
            var line = raw.TrimEnd();
            var heading = StepHeading().Match(line);
            if (heading.Success && !inHint)
            {
                step = int.Parse(heading.Groups["n"].Value, CultureInfo.InvariantCulture);
                current = [];
                result[step.Value] = current;
                continue;
            }

            if (current is null)
            {
                continue;
            }

            if (!inHint && line.TrimStart().StartsWith("<summary>", StringComparison.OrdinalIgnoreCase))
            {
                inHint = true;
                body.Clear();
                continue;
            }

            if (inHint && line.TrimStart().StartsWith("</details>", StringComparison.OrdinalIgnoreCase))
            {
                inHint = false;
                current.Add(string.Join('\n', body).Trim('\n'));
                continue;
            }

            if (inHint)
            {
                body.Add(line);
            }
        }

        return result;
    }

    [GeneratedRegex(@"^###\s+Step\s+(?<n>\d+)\b")]
    private static partial Regex StepHeading();
}

/// <summary>
/// How many hints the learner has revealed, per exercise and step, in <c>.kata/hints.json</c> (gitignored), so that
/// <c>kata hint</c> gives one more each time.
/// </summary>
internal sealed class HintState
{
    private readonly string _file;
    private readonly Dictionary<string, Dictionary<string, int>> _revealed;

    private HintState(string file, Dictionary<string, Dictionary<string, int>> revealed)
    {
        _file = file;
        _revealed = revealed;
    }

    /// <summary>Loads the state of <paramref name="repo"/> (empty when there is none yet or it is unreadable).</summary>
    public static HintState Load(KataRepo repo)
    {
        var file = Path.Combine(repo.StateDirectory, "hints.json");
        Dictionary<string, Dictionary<string, int>>? data = null;
        try
        {
            if (File.Exists(file))
            {
                data = JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, int>>>(File.ReadAllText(file));
            }
        }
        catch (JsonException)
        {
            data = null;
        }

        return new HintState(file, data ?? []);
    }

    /// <summary>How many hints of that step have been revealed.</summary>
    public int Revealed(string exercise, int step) =>
        _revealed.TryGetValue(exercise, out var steps) && steps.TryGetValue(Key(step), out var n) ? n : 0;

    /// <summary>Records that <paramref name="count"/> hints of that step have been revealed (never fewer than before).</summary>
    public void Reveal(string exercise, int step, int count)
    {
        if (!_revealed.TryGetValue(exercise, out var steps))
        {
            steps = [];
            _revealed[exercise] = steps;
        }

        steps[Key(step)] = Math.Max(count, Revealed(exercise, step));
    }

    /// <summary>Forgets the hints revealed for <paramref name="exercise"/>.</summary>
    public void Forget(string exercise) => _revealed.Remove(exercise);

    /// <summary>Writes the state back.</summary>
    public void Save()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_file)!);
        File.WriteAllText(_file, JsonSerializer.Serialize(_revealed, JsonOptions.Indented));
    }

    private static string Key(int step) => step.ToString(CultureInfo.InvariantCulture);
}

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
