using System.Globalization;
using System.Text.RegularExpressions;

namespace ConcurrencyKata.Companion;

/// <summary>One graded step of an exercise, as its README names it (<c>## Step N: Title</c>).</summary>
internal sealed record StepInfo(int Number, string Title);

/// <summary>
/// An exercise found on disk: a folder <c>exercises/NN-name/</c> with a test project <c>tests/NN-name/*.csproj</c>.
/// Nothing is hard-coded: a new exercise folder shows up on the board as soon as both exist.
/// </summary>
internal sealed record ExerciseInfo(string Id, string Number, string Title, string Directory, string TestProject, IReadOnlyList<StepInfo> Steps)
{
    /// <summary>The exercise's HINTS.md (may not exist).</summary>
    public string HintsFile => Path.Combine(Directory, "HINTS.md");

    /// <summary>The test assembly's name: the test project's AssemblyName, or its file name.</summary>
    public string TestAssemblyName =>
        System.Xml.Linq.XDocument.Load(TestProject).Descendants("AssemblyName").Select(e => e.Value.Trim()).FirstOrDefault(v => v.Length > 0)
        ?? Path.GetFileNameWithoutExtension(TestProject);

    /// <summary>
    /// The built test assembly for <paramref name="mode"/>: tests/NN-name/bin/&lt;mode&gt;/Debug/&lt;framework&gt;/&lt;name&gt;.dll
    /// (the newest, if several frameworks were built).
    /// </summary>
    public string TestAssembly(KataMode mode)
    {
        var folder = Path.Combine(Path.GetDirectoryName(TestProject)!, "bin", mode.Folder(), "Debug");
        var name = TestAssemblyName + ".dll";
        return System.IO.Directory.Exists(folder)
            ? System.IO.Directory.GetDirectories(folder).Select(d => Path.Combine(d, name)).Where(File.Exists).OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault() ?? Path.Combine(folder, "net10.0", name)
            : Path.Combine(folder, "net10.0", name);
    }
}

/// <summary>The kata repository: its root (the folder holding Concurrency.Kata.sln) and its exercises.</summary>
internal sealed partial class KataRepo
{
    /// <summary>The file that marks the repository root.</summary>
    public const string SolutionFile = "Concurrency.Kata.sln";

    private KataRepo(string root)
    {
        Root = root;
        Exercises = Discover(root);
    }

    /// <summary>The repository root, without a trailing separator.</summary>
    public string Root { get; }

    /// <summary>The exercises, in number order.</summary>
    public IReadOnlyList<ExerciseInfo> Exercises { get; }

    /// <summary>The companion's own state folder (gitignored): hint counters, the last board.</summary>
    /// <remarks>KATA_STATE_DIR moves it elsewhere (the companion's own end-to-end test does, to leave yours alone).</remarks>
    public string StateDirectory => Environment.GetEnvironmentVariable("KATA_STATE_DIR") is { Length: > 0 } dir ? Path.GetFullPath(dir) : Path.Combine(Root, ".kata");

    /// <summary>Finds the repository from <paramref name="start"/> (or the current folder) upwards.</summary>
    public static KataRepo Find(string? start = null)
    {
        var from = Path.GetFullPath(start ?? Environment.CurrentDirectory);
        for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
            {
                return new KataRepo(dir.FullName);
            }
        }

        throw new KataException($"No {SolutionFile} in {from} or above it. Run the companion from inside the kata repository (or pass --root).");
    }

    /// <summary>
    /// The exercise that <paramref name="name"/> names: its number ("01", "1"), its folder name ("01-work-queue")
    /// or the folder name without the number ("work-queue").
    /// </summary>
    public ExerciseInfo Resolve(string name)
    {
        var trimmed = name.Trim().TrimEnd('/', '\\');
        trimmed = Path.GetFileName(trimmed);
        var match = Exercises.FirstOrDefault(e =>
            string.Equals(e.Id, trimmed, StringComparison.OrdinalIgnoreCase)
            || (int.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                && int.Parse(e.Number, CultureInfo.InvariantCulture) == n)
            || string.Equals(e.Id[(e.Number.Length + 1)..], trimmed, StringComparison.OrdinalIgnoreCase));
        return match ?? throw new KataException(
            $"No exercise '{name}'. The exercises are: {string.Join(", ", Exercises.Select(e => e.Id))}.");
    }

    /// <summary>The path of <paramref name="fullPath"/> relative to the root, with forward slashes.</summary>
    public string Relative(string fullPath) => Path.GetRelativePath(Root, fullPath).Replace('\\', '/');

    private static List<ExerciseInfo> Discover(string root)
    {
        var found = new List<ExerciseInfo>();
        var exercises = Path.Combine(root, "exercises");
        if (!System.IO.Directory.Exists(exercises))
        {
            return found;
        }

        foreach (var dir in System.IO.Directory.GetDirectories(exercises).Order(StringComparer.Ordinal))
        {
            var id = Path.GetFileName(dir);
            var m = ExerciseFolder().Match(id);
            if (!m.Success)
            {
                continue;
            }

            var testDir = Path.Combine(root, "tests", id);
            var project = System.IO.Directory.Exists(testDir)
                ? System.IO.Directory.GetFiles(testDir, "*.csproj").Order(StringComparer.Ordinal).FirstOrDefault()
                : null;
            if (project is null)
            {
                continue;
            }

            var (title, steps) = ReadReadme(Path.Combine(dir, "README.md"), id);
            found.Add(new ExerciseInfo(id, m.Groups["n"].Value, title, dir, project, steps));
        }

        return found;
    }

    /// <summary>Reads an exercise README's title (<c># Exercise NN — Title</c>) and its <c>## Step N: Title</c> headings.</summary>
    internal static (string Title, IReadOnlyList<StepInfo> Steps) ReadReadme(string readme, string id)
    {
        var title = id;
        var steps = new List<StepInfo>();
        if (!File.Exists(readme))
        {
            return (title, steps);
        }

        foreach (var line in File.ReadLines(readme))
        {
            if (title == id && line.StartsWith("# ", StringComparison.Ordinal))
            {
                var heading = line[2..].Trim();
                var dash = heading.IndexOfAny(['—', '–']);
                title = dash >= 0 ? heading[(dash + 1)..].Trim() : heading;
                continue;
            }

            var step = StepHeading().Match(line);
            if (step.Success)
            {
                var number = int.Parse(step.Groups["n"].Value, CultureInfo.InvariantCulture);
                if (steps.All(s => s.Number != number))
                {
                    steps.Add(new StepInfo(number, step.Groups["title"].Value.Trim()));
                }
            }
        }

        steps.Sort((a, b) => a.Number.CompareTo(b.Number));
        return (title, steps);
    }

    [GeneratedRegex(@"^(?<n>\d{2})-[a-z0-9-]+$")]
    private static partial Regex ExerciseFolder();

    [GeneratedRegex(@"^##\s+Step\s+(?<n>\d+)\s*[:.—–-]\s*(?<title>.+)$")]
    private static partial Regex StepHeading();
}
