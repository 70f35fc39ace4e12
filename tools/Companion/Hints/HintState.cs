using System.Globalization;
using System.Text.Json;

namespace ConcurrencyKata.Companion;

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

    /// <summary>Whether any hint of <paramref name="exercise"/> has been revealed.</summary>
    public bool HasAny(string exercise) => _revealed.TryGetValue(exercise, out var steps) && steps.Values.Any(n => n > 0);

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
