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
    // TODO (Step 3): the Process, its process id, its stdin writer (a StreamWriter over
    // process.StandardInput.BaseStream with UTF-8 without a BOM: Protocol.Encoding), a SemaphoreSlim(1, 1) that
    // lets one write at a time use it, and the request in flight (guarded by the pool's lock).
    // TODO (Step 4): its WorkerState (guarded by the pool's lock), the reply loop's task (so Dispose can wait for
    // it), and the last few kilobytes of its stderr under a lock of their own (for WorkerCrashedException).

    /// <summary>The process id.</summary>
    public int ProcessId =>
        // TODO (Step 3)
        throw new NotImplementedException("Step 3 (exercise 02): implement Worker.ProcessId. See Step 3 in exercises/02-prime-pool/README.md.");

    /// <summary>The process.</summary>
    public Process Process =>
        // TODO (Step 3)
        throw new NotImplementedException("Step 3 (exercise 02): implement Worker.Process. See Step 3 in exercises/02-prime-pool/README.md.");

    /// <summary>Starts one worker process and the reader that drains its stderr. The caller (the pool) starts the
    /// stdout reader, which needs the pool.</summary>
    public static Worker Start() =>
        // TODO (Step 3): Process.Start the PrimeWorker apphost next to PrimePool.dll
        // (Path.GetDirectoryName(typeof(PrimePool).Assembly.Location)), with UseShellExecute = false and stdin, stdout
        // and stderr redirected (UTF-8 without a BOM). Then keep reading its stderr, asynchronously, all the time:
        // a pipe that nobody reads fills up (64 KB) and blocks the worker in its next write.
        throw new NotImplementedException("Step 3 (exercise 02): implement Worker.Start. See Step 3 in exercises/02-prime-pool/README.md.");

    /// <summary>Reads the next reply line from the worker's stdout; <see langword="null"/> at the end of it (the
    /// worker has died, or is dying).</summary>
    /// <remarks>A reply is a line that ends in <c>'\n'</c>. Text that ends without one, because the worker died in
    /// the middle of writing it, is not a reply: it is the end of stdout.</remarks>
    public Task<string?> ReadReplyAsync() =>
        // TODO (Step 3): read from Process.StandardOutput and return one line at a time.
        // TODO (Step 4): at the end of stdout, a last piece without its '\n' is not a reply (StreamReader.ReadLineAsync
        // returns it as if it were a line): return null.
        throw new NotImplementedException("Step 3 (exercise 02): implement Worker.ReadReplyAsync. See Step 3 in exercises/02-prime-pool/README.md.");

    /// <summary>Writes <paramref name="line"/> to the worker's stdin and flushes it, one write at a time.</summary>
    public Task WriteAsync(string line) =>
        // TODO (Step 3): WaitAsync on the write gate; WriteAsync and FlushAsync (without the flush the request stays in
        // the writer's buffer); Release in a finally.
        // TODO (Step 4): a worker that has died cannot be written to (IOException: broken pipe). That is not this
        // request's error: the stdout reader reports the death, with WorkerCrashedException.
        throw new NotImplementedException("Step 3 (exercise 02): implement Worker.WriteAsync. See Step 3 in exercises/02-prime-pool/README.md.");

    /// <summary>Closes the worker's stdin: a healthy worker reads the end of its input and exits with code 0.</summary>
    public void CloseInput() =>
        // TODO (Step 3): dispose the stdin writer, unless a write is in progress (then the worker is killed instead).
        throw new NotImplementedException("Step 3 (exercise 02): implement Worker.CloseInput. See Step 3 in exercises/02-prime-pool/README.md.");

    /// <summary>Kills the process and whatever it started.</summary>
    public void Kill() =>
        // TODO (Step 3): Process.Kill(entireProcessTree: true); it may have exited meanwhile.
        throw new NotImplementedException("Step 3 (exercise 02): implement Worker.Kill. See Step 3 in exercises/02-prime-pool/README.md.");
}
