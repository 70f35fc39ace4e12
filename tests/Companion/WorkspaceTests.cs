using ConcurrencyKata.Companion;

namespace ConcurrencyKata.Tests.Companion;

/// <summary>A catalog lane is one folder that every unit's source is synced into in turn and built incrementally:
/// what it holds after a sync must build as that unit, never as the unit before it.</summary>
[TestFixture]
public sealed class WorkspaceTests
{
    [Test]
    public void Sync_writes_changed_files_with_a_fresh_time_stamp_leaves_the_others_and_deletes_what_is_gone()
    {
        string root = Path.Combine(Path.GetTempPath(), "kata-workspace-" + Guid.NewGuid().ToString("N"));
        try
        {
            string from = Path.Combine(root, "from", "01-x");
            string to = Path.Combine(root, "to", "01-x");
            Directory.CreateDirectory(from);
            Directory.CreateDirectory(to);
            var old = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            Write(Path.Combine(from, "Changed.cs"), "restored", old);      // the solution's version, an old file
            Write(Path.Combine(to, "Changed.cs"), "patched", DateTime.UtcNow);
            Write(Path.Combine(from, "Same.cs"), "same", old);
            Write(Path.Combine(to, "Same.cs"), "same", old);
            Write(Path.Combine(to, "Gone.cs"), "gone", old);
            Directory.CreateDirectory(Path.Combine(to, "obj"));
            Write(Path.Combine(to, "obj", "kept.txt"), "build output", old);
            var before = DateTime.UtcNow.AddSeconds(-1);

            Workspace.Sync(Path.Combine(root, "from"), Path.Combine(root, "to"), ["01-x"]);

            File.ReadAllText(Path.Combine(to, "Changed.cs")).ShouldBe("restored");
            File.GetLastWriteTimeUtc(Path.Combine(to, "Changed.cs")).ShouldBeGreaterThan(before,
                "A file synced into a lane must look newer than the lane's last build, or MSBuild keeps the previous unit's assembly.");
            File.GetLastWriteTimeUtc(Path.Combine(to, "Same.cs")).ShouldBe(old, "An unchanged file keeps its time stamp: the build stays incremental.");
            File.Exists(Path.Combine(to, "Gone.cs")).ShouldBeFalse();
            File.Exists(Path.Combine(to, "obj", "kept.txt")).ShouldBeTrue("bin/ and obj/ are the lane's build state.");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Write(string path, string text, DateTime stamp)
    {
        File.WriteAllText(path, text);
        File.SetLastWriteTimeUtc(path, stamp);
    }
}
