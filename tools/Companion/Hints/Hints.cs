using System.Globalization;
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
