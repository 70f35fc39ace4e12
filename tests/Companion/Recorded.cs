using ConcurrencyKata.Companion;

namespace ConcurrencyKata.Tests.Companion;

/// <summary>
/// Recorded runs (Fixtures/, hand-trimmed from real `dotnet test --logger trx -- NUnit.TestOutputXml=…` runs of
/// exercise 01) and the exercises the board is drawn for, fixed here so that snapshots do not change when an
/// exercise's README does.
/// </summary>
internal static class Recorded
{
    /// <summary>The folder of one recorded run.</summary>
    public static string Folder(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>
    /// The steps of the recorded runs' fixtures, as <see cref="StepMap"/> would read them from the test assembly
    /// (the recorded TRX files name assemblies on another machine).
    /// </summary>
    public static StepMap Steps { get; } = StepMap.FromFixtures(new Dictionary<string, int>
    {
        ["ConcurrencyKata.Tests.WorkQueue.Step1_SingleThreaded"] = 1,
        ["ConcurrencyKata.Tests.WorkQueue.Step2_SafeUnderConcurrency"] = 2,
        ["ConcurrencyKata.Tests.WorkQueue.Step3_BlockingAndBounded"] = 3,
        ["ConcurrencyKata.Tests.WorkQueue.Step4_TaskTrackingAndShutdown"] = 4,
    });

    /// <summary>Reads a recorded run as the companion reads a fresh one.</summary>
    public static RunResults Read(string name)
    {
        var folder = Folder(name);
        var output = Path.Combine(folder, "output.txt");
        return ResultReader.ReadDirectory(folder, File.Exists(output) ? File.ReadAllLines(output) : null, _ => Steps);
    }

    /// <summary>Exercise 01 and 02 as the board knows them (README titles and steps).</summary>
    public static IReadOnlyList<ExerciseInfo> Exercises { get; } =
    [
        new("01-work-queue", "01", "A thread-safe work queue", "/kata/exercises/01-work-queue", "/kata/tests/01-work-queue/WorkQueue.Tests.csproj",
            [new(1, "Single-threaded semantics"), new(2, "Safe under concurrency"), new(3, "Blocking and bounded"), new(4, "Task tracking and shutdown")]),
        new("02-prime-pool", "02", "A pool of worker processes", "/kata/exercises/02-prime-pool", "/kata/tests/02-prime-pool/PrimePool.Tests.csproj",
            [new(1, "IsPrime"), new(2, "The worker program"), new(3, "The pool"), new(4, "Faults and shutdown")]),
    ];

    /// <summary>A fixed first hint for every step.</summary>
    public static (string? Hint, int Count) Hint(ExerciseInfo exercise, int step) =>
        ($"First hint for step {step} of {exercise.Number}: look at `Monitor.Wait`.\n\n```csharp\nlock (_sync) {{ }}\n```", 3);

    /// <summary>The board for a recorded run.</summary>
    public static Board Board(string name, KataMode mode = KataMode.Learner) => BoardBuilder.Build(mode, Exercises, Read(name), Hint);

    /// <summary>How the snapshots spell the companion's command.</summary>
    public static BoardRenderer Renderer { get; } = new(new Invocation("kata"));
}
