namespace ConcurrencyKata.Tests.Repo;

/// <summary>Finds files of the repository from the test output folder.</summary>
internal static class RepoFiles
{
    /// <summary>The repository root: the nearest folder above the test output that holds Concurrency.Kata.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A path under the root, from forward-slash parts.</summary>
    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Concurrency.Kata.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Concurrency.Kata.sln above {AppContext.BaseDirectory}.");
    }
}
