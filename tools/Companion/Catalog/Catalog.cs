namespace ConcurrencyKata.Companion;

/// <summary>The known-wrong entries and step-by-step stages under catalog/, found on disk (nothing is listed by hand).</summary>
internal sealed class Catalog
{
    private Catalog(IReadOnlyList<CatalogUnit> units) => Units = units;

    /// <summary>Every entry and stage, by exercise, entries first, each in name order.</summary>
    public IReadOnlyList<CatalogUnit> Units { get; }

    /// <summary>The entries.</summary>
    public IEnumerable<CatalogEntry> Entries => Units.OfType<CatalogEntry>();

    /// <summary>Reads catalog/ of <paramref name="repo"/>.</summary>
    public static Catalog Load(KataRepo repo)
    {
        var units = new List<CatalogUnit>();
        var catalog = Path.Combine(repo.Root, "catalog");
        if (!Directory.Exists(catalog))
        {
            return new Catalog(units);
        }

        foreach (var folder in Directory.GetDirectories(catalog).Order(StringComparer.Ordinal))
        {
            var exercise = Path.GetFileName(folder);
            units.AddRange(Directory.GetFiles(folder, "*.patch").Order(StringComparer.Ordinal).Select(p => CatalogEntry.Read(exercise, p)));
            units.AddRange(StageAssembler.Layers(repo.Root, exercise).Select(l => new CatalogStage(exercise, l.Step)));
        }

        return new Catalog(units);
    }

    /// <summary>
    /// The units that <paramref name="names"/> name (every unit when there are none): an exercise
    /// (<c>01-work-queue</c>, <c>01</c>), an entry (<c>01-work-queue/03-if-instead-of-while</c>, <c>01/03</c>, with or
    /// without .patch), or a stage (<c>01-work-queue/steps/after-step-2</c>).
    /// </summary>
    public IReadOnlyList<CatalogUnit> Select(KataRepo repo, IReadOnlyList<string> names)
    {
        if (names.Count == 0)
        {
            return Units;
        }

        var chosen = new List<CatalogUnit>();
        foreach (var raw in names)
        {
            var name = raw.Trim().TrimEnd('/').Replace('\\', '/');
            if (name.StartsWith("catalog/", StringComparison.Ordinal))
            {
                name = name["catalog/".Length..];
            }

            var slash = name.IndexOf('/', StringComparison.Ordinal);
            var exercise = Exercise(repo, slash < 0 ? name : name[..slash]);
            var rest = slash < 0 ? null : name[(slash + 1)..];
            if (rest is not null && rest.EndsWith(".patch", StringComparison.Ordinal))
            {
                rest = rest[..^".patch".Length];
            }

            var mine = Units.Where(u => u.Exercise == exercise).ToList();
            var matched = rest is null ? mine
                : mine.Where(u => u.Name == rest).ToList() is { Count: > 0 } exact ? exact
                : mine.OfType<CatalogEntry>().Where(e => e.Name.StartsWith(rest + "-", StringComparison.Ordinal)).Cast<CatalogUnit>().ToList();
            if (matched.Count == 0)
            {
                throw new KataException($"No catalog entry or stage '{raw}'. {exercise} has: {string.Join(", ", mine.Select(u => u.Name))}.");
            }

            chosen.AddRange(matched.Where(u => !chosen.Contains(u)));
        }

        return chosen;
    }

    private string Exercise(KataRepo repo, string name)
    {
        if (Units.Any(u => u.Exercise == name))
        {
            return name;
        }

        var resolved = repo.Resolve(name).Id;
        return Units.Any(u => u.Exercise == resolved)
            ? resolved
            : throw new KataException($"catalog/{resolved} does not exist: exercise {resolved} has no catalog yet.");
    }
}
