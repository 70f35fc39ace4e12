using System.Xml.Linq;

namespace ConcurrencyKata.Companion;

/// <summary>
/// Lays out a catalog unit as a folder like solutions/ (the exercise, and the exercises it builds on), so that the
/// normal build switch can build it: <c>dotnet test tests/&lt;exercise&gt; -p:KataDir=&lt;folder&gt;/</c>.
/// </summary>
internal static class Workspace
{
    /// <summary>Writes the unit into <paramref name="folder"/> (emptied first): an entry is its exercise's solution
    /// with the patch applied, a stage is the stubs with the steps so far laid over them. The exercises it builds on
    /// are copied unchanged from solutions/.</summary>
    /// <returns>Null when it is laid out; otherwise why not (a patch that no longer applies).</returns>
    public static string? Materialize(KataRepo repo, CatalogUnit unit, string folder)
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        Directory.CreateDirectory(folder);
        var target = Path.Combine(folder, unit.Exercise);
        switch (unit)
        {
            case CatalogEntry entry:
                CopyTree(Path.Combine(repo.Root, "solutions", unit.Exercise), target);
                var applied = Dotnet.RunProcess("git", ["apply", "-p2", "--directory=" + repo.Relative(folder), entry.PatchFile],
                    repo.Root, TimeSpan.FromMinutes(1), CancellationToken.None);
                if (!applied.Succeeded)
                {
                    return $"the patch does not apply to solutions/{unit.Exercise} (regenerate it): {string.Join(" ", applied.Output).Trim()}";
                }

                break;
            case CatalogStage stage:
                StageAssembler.Materialize(repo.Root, unit.Exercise, stage.Step, target);
                break;
        }

        foreach (var dependency in Dependencies(repo, unit.Exercise))
        {
            CopyTree(Path.Combine(repo.Root, "solutions", dependency), Path.Combine(folder, dependency));
        }

        return null;
    }

    /// <summary>The other exercises an exercise's projects reference (03's Pipeline builds on 02's PrimePool).</summary>
    public static IReadOnlyList<string> Dependencies(KataRepo repo, string exercise)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>([exercise]);
        while (pending.TryDequeue(out var current))
        {
            var folder = Path.Combine(repo.Root, "solutions", current);
            if (!Directory.Exists(folder))
            {
                continue;
            }

            foreach (var project in Directory.GetFiles(folder, "*.csproj", SearchOption.AllDirectories))
            {
                foreach (var include in XDocument.Load(project).Descendants("ProjectReference").Select(r => (string?)r.Attribute("Include")).OfType<string>())
                {
                    var full = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, include.Replace('\\', Path.DirectorySeparatorChar)));
                    var other = Path.GetRelativePath(Path.Combine(repo.Root, "solutions"), full).Split(Path.DirectorySeparatorChar)[0];
                    if (other != exercise && other != ".." && found.Add(other))
                    {
                        pending.Enqueue(other);
                    }
                }
            }
        }

        return [.. found];
    }

    /// <summary>Copies a source tree without its build output (bin/, obj/).</summary>
    public static void CopyTree(string from, string to)
    {
        foreach (var file in SourceFiles(from))
        {
            var target = Path.Combine(to, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(from, file), target, overwrite: true);
        }
    }

    /// <summary>
    /// Makes <paramref name="exercises"/> in <paramref name="to"/> hold what they hold in <paramref name="from"/>,
    /// writing only the files whose content differs and deleting the ones that are gone: files left alone keep their
    /// time stamps, so an incremental build recompiles only what the unit changed. bin/ and obj/ are kept.
    /// </summary>
    public static void Sync(string from, string to, IEnumerable<string> exercises)
    {
        foreach (var exercise in exercises)
        {
            var source = Path.Combine(from, exercise);
            var target = Path.Combine(to, exercise);
            var wanted = SourceFiles(source).ToHashSet(StringComparer.Ordinal);
            foreach (var file in wanted)
            {
                var src = Path.Combine(source, file);
                var dst = Path.Combine(target, file);
                if (File.Exists(dst) && FilesEqual(src, dst))
                {
                    continue;
                }

                Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
                File.Copy(src, dst, overwrite: true);

                // File.Copy keeps the source's time stamp, which may be older than the lane's last build of a previous
                // unit's version of this file: an incremental build would then keep that unit's assembly.
                File.SetLastWriteTimeUtc(dst, DateTime.UtcNow);
            }

            if (Directory.Exists(target))
            {
                foreach (var stale in SourceFiles(target).Where(f => !wanted.Contains(f)).ToList())
                {
                    File.Delete(Path.Combine(target, stale));
                }
            }
        }
    }

    /// <summary>The files of a tree, relative to it, leaving out build output (any bin/ or obj/ folder).</summary>
    private static IEnumerable<string> SourceFiles(string root)
    {
        if (!Directory.Exists(root))
        {
            yield break;
        }

        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file);
            var parts = relative.Split(Path.DirectorySeparatorChar);
            if (parts.Take(parts.Length - 1).Any(p => p is "bin" or "obj"))
            {
                continue;
            }

            yield return relative;
        }
    }

    private static bool FilesEqual(string a, string b)
    {
        var left = new FileInfo(a);
        var right = new FileInfo(b);
        return left.Length == right.Length && File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b));
    }
}
