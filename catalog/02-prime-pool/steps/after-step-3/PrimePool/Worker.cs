using System.Diagnostics;

namespace ConcurrencyKata;

/// <summary>
/// One worker process and the pipes to it: the PrimeWorker program, started with its stdin, stdout and stderr
/// redirected. <see cref="PrimePool"/> decides what it does (which request it gets, when it is dead); this class
/// only talks to the process.
/// </summary>
/// <remarks>
/// Three pieces of state have three different owners: the request in flight and the worker's state belong to the
/// pool (guarded by the pool's lock); the stdin writer is used by one write at a time (a
/// <see cref="SemaphoreSlim"/>(1, 1), never the pool's lock: a pipe write can wait); the tail of stderr has a lock
/// of its own, because the stderr reader appends to it while a crash report reads it. Add or change members as you
/// like: only <see cref="PrimePool"/> uses them.
/// </remarks>
internal sealed class Worker
{
    // TODO (Step 4): its WorkerState (guarded by the pool's lock), the reply loop's task (so Dispose can wait for
    // it), and the last few kilobytes of its stderr under a lock of their own (for WorkerCrashedException).

    private Worker(Process process)
    {
        Process = process;
        ProcessId = process.Id;
        Input = new StreamWriter(process.StandardInput.BaseStream, Protocol.Encoding);
    }

    /// <summary>The process id.</summary>
    public int ProcessId { get; }

    /// <summary>The process.</summary>
    public Process Process { get; }

    /// <summary>The request this worker is answering, if any. Guarded by the pool's lock.</summary>
    public Request? InFlight { get; set; }

    /// <summary>The worker's stdin. Written only by the holder of <see cref="WriteGate"/>.</summary>
    private StreamWriter Input { get; }

    /// <summary>Lets one write at a time use <see cref="Input"/>.</summary>
    private SemaphoreSlim WriteGate { get; } = new(1, 1);

    /// <summary>Starts one worker process and the reader that drains its stderr. The caller (the pool) starts the
    /// stdout reader, which needs the pool.</summary>
    public static Worker Start()
    {
        string folder = Path.GetDirectoryName(typeof(PrimePool).Assembly.Location)!;
        var process = Process.Start(new ProcessStartInfo(Path.Combine(folder, OperatingSystem.IsWindows() ? "PrimeWorker.exe" : "PrimeWorker"))
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true, // redirected, so it must be drained: see DrainStderrAsync
            StandardOutputEncoding = Protocol.Encoding,
            StandardErrorEncoding = Protocol.Encoding,
        })!;
        var worker = new Worker(process);
        _ = Task.Run(worker.DrainStderrAsync);
        return worker;
    }

    /// <summary>Reads the next reply line from the worker's stdout; <see langword="null"/> at the end of it (the
    /// worker has died, or is dying).</summary>
    public async Task<string?> ReadReplyAsync() =>
        // TODO (Step 4): at the end of stdout, a last piece without its '\n' is not a reply (StreamReader.ReadLineAsync
        // returns it as if it were a line): return null.
        await Process.StandardOutput.ReadLineAsync().ConfigureAwait(false);

    /// <summary>Writes <paramref name="line"/> to the worker's stdin and flushes it, one write at a time.</summary>
    public async Task WriteAsync(string line)
    {
        await WriteGate.WaitAsync().ConfigureAwait(false);
        try
        {
            await Input.WriteAsync(line).ConfigureAwait(false); // "<id> check 10000019\n"
            await Input.FlushAsync().ConfigureAwait(false);     // or the worker never sees it
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The worker is gone, or the pool is being disposed.
        }
        finally
        {
            WriteGate.Release();
        }
    }

    /// <summary>Closes the worker's stdin: a healthy worker reads the end of its input and exits with code 0.</summary>
    public void CloseInput()
    {
        // Not while a write is in progress: that worker is killed after the wait instead.
        if (!WriteGate.Wait(0))
        {
            return;
        }

        try
        {
            Input.Dispose();
        }
        catch (IOException)
        {
            // The worker is gone already.
        }
        finally
        {
            WriteGate.Release();
        }
    }

    /// <summary>Kills the process and whatever it started.</summary>
    public void Kill()
    {
        try
        {
            Process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It has exited meanwhile.
        }
    }

    /// <summary>The stderr reader: read all the time, so that the pipe never fills up and blocks the worker.</summary>
    private async Task DrainStderrAsync()
    {
        var buffer = new char[4096];
        while (await Process.StandardError.ReadAsync(buffer).ConfigureAwait(false) > 0)
        {
            // TODO (Step 4): keep the last few kilobytes, for the WorkerCrashedException of a worker that dies.
        }
    }
}
