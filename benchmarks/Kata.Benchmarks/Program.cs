using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace ConcurrencyKata.Benchmarks;

/// <summary>
/// Entry point: BenchmarkDotNet's switcher, so every comparison has a one-line command
/// (see docs/benchmarks.md), e.g. <c>dotnet run -c Release --project benchmarks/Kata.Benchmarks -- --filter '*Queue*'</c>.
/// </summary>
public static class Program
{
    /// <summary>Runs the benchmarks selected by <paramref name="args"/>.</summary>
    public static void Main(string[] args)
    {
        // In-process: the benchmarks measure code built with this project's KataTarget switch, and need no second
        // build of a generated project (which would not see -p:KataTarget). Short runs keep a full sweep within
        // minutes on 2 cores. A job given on the command line (CI's `--job dry`) replaces the short run.
        if (args.Contains("--job") || args.Contains("-j"))
        {
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. args, "--inProcess"]);
            return;
        }

        var config = DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).AsDefault())
            .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
