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
        if (args is ["--fetch", string url])
        {
            Environment.Exit(FetchOnce(new Uri(url)));
        }

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

    /// <summary>Child mode of <see cref="IoBoundBenchmarks.Processes"/>: one GET, exit code 0 if it succeeded.</summary>
    internal static int FetchOnce(Uri url)
    {
        using var client = new HttpClient();
        using HttpResponseMessage response = client.GetAsync(url).GetAwaiter().GetResult();
        return response.IsSuccessStatusCode ? 0 : 1;
    }

    /// <summary>Starts this program again (its apphost next to this assembly, or <c>dotnet Kata.Benchmarks.dll</c>)
    /// with <paramref name="arguments"/>, output discarded.</summary>
    internal static System.Diagnostics.Process StartChild(params string[] arguments)
    {
        string folder = AppContext.BaseDirectory;
        string appHost = Path.Combine(folder, OperatingSystem.IsWindows() ? "Kata.Benchmarks.exe" : "Kata.Benchmarks");
        var start = File.Exists(appHost)
            ? new System.Diagnostics.ProcessStartInfo(appHost)
            : new System.Diagnostics.ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { ArgumentList = { Path.Combine(folder, "Kata.Benchmarks.dll") } };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.UseShellExecute = false;
        return System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
    }
}
