using System.Collections.Concurrent;
using System.Diagnostics;

namespace ConcurrencyKata.Companion;

/// <summary>What one <c>dotnet</c> (or other) process did.</summary>
/// <param name="ExitCode">Its exit code; -1 when it was stopped at its deadline.</param>
/// <param name="TimedOut">It ran past its deadline and its process tree was killed.</param>
/// <param name="Output">Its stdout and stderr lines, in the order they arrived.</param>
/// <param name="Elapsed">How long it ran.</param>
internal sealed record ProcessResult(int ExitCode, bool TimedOut, IReadOnlyList<string> Output, TimeSpan Elapsed)
{
    /// <summary>It exited with 0 in time.</summary>
    public bool Succeeded => ExitCode == 0 && !TimedOut;
}

/// <summary>
/// Runs a process the way every part of the companion needs it: output captured line by line (and optionally
/// echoed), a deadline after which the whole process tree is killed, and cancellation (Ctrl+C) that kills it too, so
/// that nothing the companion starts outlives it.
/// </summary>
internal static class Dotnet
{
    /// <summary>Runs <c>dotnet</c> with <paramref name="args"/> in <paramref name="workingDirectory"/>.</summary>
    public static ProcessResult Run(IEnumerable<string> args, string workingDirectory, TimeSpan deadline, CancellationToken cancel,
        IReadOnlyDictionary<string, string>? environment = null, Action<string>? onLine = null) =>
        RunProcess("dotnet", args, workingDirectory, deadline, cancel, environment, onLine);

    /// <summary>Runs <paramref name="fileName"/> with <paramref name="args"/> (see <see cref="Run"/>).</summary>
    public static ProcessResult RunProcess(string fileName, IEnumerable<string> args, string workingDirectory, TimeSpan deadline, CancellationToken cancel,
        IReadOnlyDictionary<string, string>? environment = null, Action<string>? onLine = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // The companion reads dotnet's output; the terminal logger's live redraws are not for it.
        info.Environment["MSBUILDTERMINALLOGGER"] = "off";

        // The companion builds again and again (watch, the catalog, CI): the compiler server and reused MSBuild nodes
        // make an incremental build of one changed project take about 0.3 s of compiling instead of 2 s of starting
        // a compiler. Some machines turn them off for one-shot builds (UseSharedCompilation=false,
        // MSBUILDDISABLENODEREUSE=1); `dotnet build-server shutdown` ends them (.ci/run does, on exit).
        info.Environment["UseSharedCompilation"] = "true";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "0";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var lines = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        try
        {
            if (!process.Start())
            {
                throw new KataException($"Could not start {fileName}.");
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new KataException($"Could not start {fileName}: {e.Message}. Is it installed and on the PATH?", e);
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var registration = cancel.Register(() => Kill(process));
        var finished = process.WaitForExit(deadline);
        if (!finished)
        {
            Kill(process);
        }

        process.WaitForExit();
        cancel.ThrowIfCancellationRequested();
        return new ProcessResult(finished ? process.ExitCode : -1, !finished, [.. lines], clock.Elapsed);

        void Collect(string? line)
        {
            if (line is null)
            {
                return;
            }

            lines.Enqueue(line);
            onLine?.Invoke(line);
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
