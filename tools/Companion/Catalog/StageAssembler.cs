namespace ConcurrencyKata.Companion;

/// <summary>One file a step changes, and its text after the step.</summary>
/// <param name="Relative">Its path inside the exercise folder, with forward slashes (WorkQueue/WorkQueue.cs).</param>
/// <param name="Text">Its text after the step.</param>
/// <param name="FromSolutions">The step finishes it exactly as solutions/ has it, so the stage lists it in
/// <c>from-solutions</c> instead of holding a copy.</param>
internal sealed record StageFile(string Relative, string Text, bool FromSolutions);

/// <summary>What one step changes: the files of <c>catalog/&lt;exercise&gt;/steps/after-step-N/</c>.</summary>
internal sealed record StageLayer(int Step, string Folder, IReadOnlyList<StageFile> Files);

/// <summary>
/// Lays the step-by-step stages over the stubs: stage N is exercises/&lt;exercise&gt;/ with after-step-1, …,
/// after-step-N laid over it in that order. The one place that knows how; the catalog runs it, and the repository's
/// tests check the stages with it.
/// </summary>
internal static class StageAssembler
{
    /// <summary>The file in a stage folder listing the files taken from solutions/ (one relative path per line).</summary>
    public const string FromSolutionsList = "from-solutions";

    /// <summary>The stages of an exercise, in step order (empty if it has none).</summary>
    public static IReadOnlyList<StageLayer> Layers(string root, string exercise)
    {
        var steps = Path.Combine(root, "catalog", exercise, "steps");
        if (!Directory.Exists(steps))
        {
            return [];
        }

        var layers = new List<StageLayer>();
        foreach (var folder in Directory.GetDirectories(steps))
        {
            var name = Path.GetFileName(folder);
            if (!name.StartsWith("after-step-", StringComparison.Ordinal) || !int.TryParse(name["after-step-".Length..], out var step))
            {
                continue;
            }

            var list = Path.Combine(folder, FromSolutionsList);
            var files = Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
                .Where(f => f != list)
                .Select(f => new StageFile(Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllText(f), FromSolutions: false))
                .ToList();
            if (File.Exists(list))
            {
                foreach (var relative in File.ReadAllLines(list).Select(l => l.Trim()).Where(l => l.Length > 0))
                {
                    var solution = Path.Combine(root, "solutions", exercise, relative);
                    files.Add(new StageFile(relative, File.Exists(solution) ? File.ReadAllText(solution) : "", FromSolutions: true));
                }
            }

            layers.Add(new StageLayer(step, folder, files.OrderBy(f => f.Relative, StringComparer.Ordinal).ToList()));
        }

        return layers.OrderBy(l => l.Step).ToList();
    }

    /// <summary>Writes stage <paramref name="step"/> of <paramref name="exercise"/> into <paramref name="target"/> (the exercise folder to create).</summary>
    public static void Materialize(string root, string exercise, int step, string target)
    {
        Workspace.CopyTree(Path.Combine(root, "exercises", exercise), target);
        foreach (var layer in Layers(root, exercise).Where(l => l.Step <= step))
        {
            foreach (var file in layer.Files)
            {
                var path = Path.Combine(target, file.Relative.Replace('/', Path.DirectorySeparatorChar));
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, file.Text);
            }
        }
    }
}
