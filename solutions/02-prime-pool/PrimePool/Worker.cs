using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace ConcurrencyKata;

/// <summary>
/// One worker process and the pipes to it: the PrimeWorker program, started with its stdin, stdout and stderr
/// redirected. <see cref="PrimePool"/> decides what it does (which request it gets, when it is dead); this class
/// only talks to the process.
/// </summary>
/// <remarks>
/// <para>Three pieces of state have three different owners. <see cref="State"/> and <see cref="InFlight"/> belong
/// to the pool and are guarded by the pool's lock. <see cref="Input"/> is written by one write at a time, the
/// holder of <see cref="WriteGate"/>. The stderr tail has a lock of its own, <see cref="_standardErrorLock"/>,
/// because the stderr reader appends to it while the pool may be reading it for a crash report.</para>
/// <para>Nothing here blocks for long under a lock: a pipe write can wait for the worker to read, so it happens
/// under <see cref="WriteGate"/> only, never under the pool's lock.</para>
/// </remarks>
internal sealed class Worker
{
    /// <summary>How much of the end of the worker's stderr is kept for a crash report: a stack trace fits.</summary>
    private const int StandardErrorKept = 4096;

    /// <summary>The folder of PrimePool.dll, where a ProjectReference to PrimeWorker.csproj puts the worker too.</summary>
    private static readonly string s_folder =
        Path.GetDirectoryName(typeof(PrimePool).Assembly.Location) is { Length: > 0 } folder ? folder : AppContext.BaseDirectory;

    /// <summary>The worker's apphost: PrimeWorker, or PrimeWorker.exe on Windows.</summary>
    private static readonly string s_appHost = Path.Combine(s_folder, OperatingSystem.IsWindows() ? "PrimeWorker.exe" : "PrimeWorker");

    /// <summary>The worker's assembly, for the dotnet host when there is no apphost.</summary>
    private static readonly string s_dll = Path.Combine(s_folder, "PrimeWorker.dll");

    /// <summary>The lock protecting <see cref="_standardErrorTail"/>, which the stderr reader appends to. Private:
    /// held only for an append or a copy, never while waiting for anything.</summary>
    private readonly object _standardErrorLock = new();

    /// <summary>The last few kilobytes the worker wrote to stderr. Guarded by <see cref="_standardErrorLock"/>.</summary>
    private readonly StringBuilder _standardErrorTail = new();

    /// <summary>What the reply loop has read from stdout and not returned yet. Used by the reply loop only, one
    /// read at a time, so it needs no lock.</summary>
    private readonly char[] _replyBuffer = new char[4096];

    /// <summary>The part of the line being read that came before <see cref="_replyBuffer"/>'s content: a reply
    /// longer than the buffer, or not complete yet. Used by the reply loop only.</summary>
    private readonly StringBuilder _replyLine = new();

    /// <summary>Where the unread characters of <see cref="_replyBuffer"/> start. Used by the reply loop only.</summary>
    private int _replyStart;

    /// <summary>Where the unread characters of <see cref="_replyBuffer"/> end. Used by the reply loop only.</summary>
    private int _replyEnd;

    private Worker(Process process)
    {
        Process = process;
        ProcessId = process.Id;

        // Our own writer on the stdin pipe: no BOM, and one flush per request (Process's own writer flushes on
        // every Write call).
        Input = new StreamWriter(process.StandardInput.BaseStream, Protocol.Encoding);
    }

    /// <summary>The process. Released by whoever ends the worker: <see cref="PrimePool"/>'s crash handling, or
    /// Dispose. Immutable reference.</summary>
    public Process Process { get; }

    /// <summary>The process id, kept: <see cref="System.Diagnostics.Process.Id"/> throws once the process is released. Immutable.</summary>
    public int ProcessId { get; }

    /// <summary>The worker's stdin. Written only by the holder of <see cref="WriteGate"/>.</summary>
    public StreamWriter Input { get; }

    /// <summary>Lets one write at a time use <see cref="Input"/>: the caller of SendAsync and the reply loop (which
    /// dispatches the next request the moment a reply arrives) may both write to the same worker.</summary>
    public SemaphoreSlim WriteGate { get; } = new(1, 1);

    /// <summary>Where the worker's life is at. Guarded by the pool's lock.</summary>
    public WorkerState State { get; set; }

    /// <summary>The request the pool waits for this worker to answer, if any: at most one, because a worker answers
    /// one request at a time. Guarded by the pool's lock.</summary>
    public Request? InFlight { get; set; }

    /// <summary>The stdout reader, which ends after the worker's death has been handled. Set once, right after the
    /// start, before any other thread can see this worker.</summary>
    public Task Lifetime { get; set; } = Task.CompletedTask;

    /// <summary>The stderr reader, which ends when the worker's stderr closes. Set once, right after the start.</summary>
    public Task StderrDrained { get; private set; } = Task.CompletedTask;

    /// <summary>The last text the worker wrote to stderr (at most a few kilobytes): for a crash report.</summary>
    public string StandardErrorTail
    {
        get
        {
            lock (_standardErrorLock)
            {
                return _standardErrorTail.ToString();
            }
        }
    }

    /// <summary>Starts one worker process and the reader that drains its stderr. The caller starts the stdout
    /// reader (<see cref="Lifetime"/>), which needs the pool.</summary>
    /// <exception cref="Win32Exception">The worker program could not be started.</exception>
    /// <exception cref="IOException">The worker program could not be started.</exception>
    /// <exception cref="InvalidOperationException">The worker program could not be started.</exception>
    public static Worker Start()
    {
        var startInfo = new ProcessStartInfo
        {
            FileName = FileName,
            UseShellExecute = false,
            CreateNoWindow = true,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,

            // Redirected and drained (below). Redirected but never read, stderr fills its pipe (64 KB on Linux) and
            // the worker blocks in its next write to stderr, so it never answers again.
            RedirectStandardError = true,
            StandardOutputEncoding = Protocol.Encoding,
            StandardErrorEncoding = Protocol.Encoding,
        };
        foreach (string argument in Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch
        {
            process.Dispose();
            throw;
        }

        var worker = new Worker(process);

        // Both output pipes are read all the time, asynchronously: a pipe that nobody reads fills up and blocks the
        // worker. This one only keeps the pipe empty (and the tail for crash reports).
        worker.StderrDrained = Task.Run(worker.DrainStandardErrorAsync);
        return worker;
    }

    /// <summary>Says which program <see cref="Start"/> runs, for an error message.</summary>
    public static string Describe() => FileName == s_appHost ? s_appHost : $"{FileName} {s_dll}";

    /// <summary>Reads the next reply line from the worker's stdout, without its <c>'\n'</c> (and a <c>'\r'</c> before
    /// it, if any); <see langword="null"/> at the end of stdout (the worker has died, or is dying). Only the reply loop
    /// calls it, one call at a time.</summary>
    /// <remarks>A reply is a line that ends in <c>'\n'</c>. Text left at the end of stdout without one is a reply cut
    /// off by the worker's death, never an answer: it is dropped, and the end of stdout reported. (StreamReader's own
    /// ReadLineAsync would return it as if it were a line.)</remarks>
    public async Task<string?> ReadReplyAsync()
    {
        while (true)
        {
            int newline = Array.IndexOf(_replyBuffer, '\n', _replyStart, _replyEnd - _replyStart);
            if (newline >= 0)
            {
                _replyLine.Append(_replyBuffer, _replyStart, newline - _replyStart);
                _replyStart = newline + 1;
                if (_replyLine.Length > 0 && _replyLine[^1] == '\r')
                {
                    _replyLine.Length--; // "\r\n", as a worker that uses WriteLine on Windows ends its lines
                }

                string line = _replyLine.ToString();
                _replyLine.Clear();
                return line;
            }

            // No line end in what is buffered: keep it, and read on.
            _replyLine.Append(_replyBuffer, _replyStart, _replyEnd - _replyStart);
            _replyStart = 0;
            _replyEnd = await Process.StandardOutput.ReadAsync(_replyBuffer).ConfigureAwait(false);
            if (_replyEnd == 0)
            {
                return null; // the end of stdout; whatever is left in _replyLine never got its '\n'
            }
        }
    }

    /// <summary>Writes <paramref name="line"/> to the worker's stdin and flushes it. Never throws: a worker that has
    /// died cannot be written to, and its stdout reader reports its death.</summary>
    public async Task WriteAsync(string line)
    {
        try
        {
            // Never two writes on one StreamWriter at once: the previous write's flush may not have returned yet
            // when the worker has already answered and the next request goes out.
            await WriteGate.WaitAsync().ConfigureAwait(false);
            try
            {
                await Input.WriteAsync(line).ConfigureAwait(false);

                // The flush is what puts the request into the pipe. Without it, a short request waits in the
                // writer's buffer, the worker never sees it, and the task never completes.
                await Input.FlushAsync().ConfigureAwait(false);
            }
            finally
            {
                WriteGate.Release();
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The worker has died, or the pool is being disposed. Its reader notices the end of stdout and fails
            // the request (or Dispose already has).
        }
    }

    /// <summary>Closes the worker's stdin: a healthy worker reads the end of its input and exits with code 0.</summary>
    public void CloseInput()
    {
        // Only if no write is in progress: closing the writer under a running write would corrupt it. A worker
        // whose stdin cannot be closed now is killed after the grace period instead.
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

    /// <summary>Waits up to <paramref name="timeout"/> for the process to exit; true if it has.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        try
        {
            return Process.WaitForExit(timeout);
        }
        catch (InvalidOperationException)
        {
            return true; // no process is associated any more
        }
    }

    /// <summary>Waits for the process to exit without blocking a thread; false if <paramref name="cancellationToken"/>
    /// ended the wait first.</summary>
    public async Task<bool> WaitForExitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Kills the process and whatever it started.</summary>
    public void Kill()
    {
        try
        {
            Process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception)
        {
            // It has exited meanwhile.
        }
    }

    /// <summary>The stderr reader: keeps the pipe empty, and the last few kilobytes for crash reports.</summary>
    private async Task DrainStandardErrorAsync()
    {
        var buffer = new char[4096];
        try
        {
            int read;
            while ((read = await Process.StandardError.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                lock (_standardErrorLock)
                {
                    // Appended and trimmed in one step, so a crash report never sees more than the tail, or half
                    // of an append.
                    _standardErrorTail.Append(buffer, 0, read);
                    if (_standardErrorTail.Length > StandardErrorKept)
                    {
                        _standardErrorTail.Remove(0, _standardErrorTail.Length - StandardErrorKept);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The pipe broke: the same as its end.
        }
    }

    /// <summary>The apphost if it is there; else the dotnet host that runs PrimeWorker.dll.</summary>
    private static string FileName =>
        File.Exists(s_appHost) || !File.Exists(s_dll)
            ? s_appHost
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    /// <summary>No arguments for the apphost; the dll's path for the dotnet host.</summary>
    private static IReadOnlyList<string> Arguments => FileName == s_appHost ? [] : [s_dll];
}
