using System.Text.Json;

namespace ConcurrencyKata.Tests.Repo;

/// <summary>The dev container opens the kata ready to run, offline too: .NET 10 image, C# Dev Kit, packages and the
/// Coyote tool restored, the solution as default, at least 2 CPUs.</summary>
[TestFixture]
public sealed class DevcontainerTests
{
    [Test]
    public void The_devcontainer_file_parses_and_sets_up_the_kata()
    {
        string text = File.ReadAllText(RepoFiles.PathOf(".devcontainer/devcontainer.json"));
        using var json = JsonDocument.Parse(text, new JsonDocumentOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        });
        JsonElement root = json.RootElement;

        root.GetProperty("image").GetString().ShouldNotBeNull().ShouldContain("dotnet:10", Case.Insensitive,
            "The image must be the .NET 10 dev container image.");
        root.GetProperty("hostRequirements").GetProperty("cpus").GetInt32().ShouldBeGreaterThanOrEqualTo(2,
            "The kata needs at least 2 CPUs: threads must really run at once.");
        string postCreate = root.GetProperty("postCreateCommand").GetString().ShouldNotBeNull();
        postCreate.ShouldContain("dotnet restore", Case.Sensitive, "Restore on create, so the first dotnet test only builds.");
        postCreate.ShouldContain("build/coyote", Case.Sensitive,
            "The build runs the Coyote tool (build/coyote/.config/dotnet-tools.json): restore it on create too, or an offline dojo breaks on its first build.");
        postCreate.ShouldContain("dotnet tool restore", Case.Sensitive);

        JsonElement vscode = root.GetProperty("customizations").GetProperty("vscode");
        vscode.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()).ShouldContain("ms-dotnettools.csdevkit");
        vscode.GetProperty("settings").GetProperty("dotnet.defaultSolution").GetString().ShouldBe("Concurrency.Kata.sln");
    }
}
