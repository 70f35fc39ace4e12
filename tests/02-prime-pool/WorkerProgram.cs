namespace ConcurrencyKata.Tests.PrimePoolTests;

/// <summary>Finds and starts the PrimeWorker program that the build copied next to the tests.</summary>
internal static class WorkerProgram
{
    /// <summary>The apphost: PrimeWorker (PrimeWorker.exe on Windows) in the test output folder, where the
    /// ProjectReference to PrimeWorker.csproj copies it, next to PrimeWorker.dll and PrimeWorker.runtimeconfig.json.</summary>
    public static string AppHost { get; } =
        Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "PrimeWorker.exe" : "PrimeWorker");

    /// <summary>Starts one worker process, recorded for the current test's orphan check.</summary>
    public static TrackedProcess Start()
    {
        if (!File.Exists(AppHost))
        {
            Assert.Fail(
                $"The worker program is missing: no {AppHost}. The test project references PrimeWorker/PrimeWorker.csproj, and a " +
                "console project's build output (its apphost, PrimeWorker.dll, PrimeWorker.runtimeconfig.json) is copied next to the " +
                "tests. Keep <OutputType>Exe</OutputType> and <AssemblyName>PrimeWorker</AssemblyName> in PrimeWorker.csproj.");
        }

        return TrackedProcess.Start(AppHost, "worker");
    }
}
