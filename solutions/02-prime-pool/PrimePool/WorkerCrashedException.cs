// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
namespace ConcurrencyKata;

/// <summary>
/// A worker process died while it had a request of this task in flight: the .NET counterpart of Python's
/// <c>concurrent.futures.process.BrokenProcessPool</c>. It says which process died and how.
/// </summary>
/// <remarks>Unlike Python's pool, which refuses all further work once a worker has died, <see cref="PrimePool"/>
/// fails only the tasks that were in flight on the dead worker and replaces it (see exercises/02-prime-pool/README.md).</remarks>
public sealed class WorkerCrashedException : Exception
{
    /// <summary>Creates the exception for worker process <paramref name="processId"/>, which exited with
    /// <paramref name="exitCode"/>.</summary>
    /// <param name="processId">The dead worker's process id.</param>
    /// <param name="exitCode">Its exit code (on Linux and macOS, 128 + the signal number when it was killed).</param>
    /// <param name="standardErrorTail">The last text it wrote to stderr, for the message; may be empty.</param>
    public WorkerCrashedException(int processId, int exitCode, string standardErrorTail)
        : base(Describe(processId, exitCode, standardErrorTail))
    {
        ProcessId = processId;
        ExitCode = exitCode;
        StandardErrorTail = standardErrorTail ?? "";
    }

    /// <summary>Creates the exception with no details about the process.</summary>
    public WorkerCrashedException()
        : this("A worker process died while it had a request in flight.")
    {
    }

    /// <summary>Creates the exception with no details about the process.</summary>
    public WorkerCrashedException(string message)
        : base(message)
    {
        StandardErrorTail = "";
    }

    /// <summary>Creates the exception with no details about the process.</summary>
    public WorkerCrashedException(string message, Exception innerException)
        : base(message, innerException)
    {
        StandardErrorTail = "";
    }

    /// <summary>The dead worker's process id.</summary>
    public int ProcessId { get; }

    /// <summary>The dead worker's exit code: what it passed to <c>exit</c>, or, when it was killed, 128 + the
    /// signal number on Linux and macOS (137 for SIGKILL) and -1 on Windows.</summary>
    public int ExitCode { get; }

    /// <summary>The last text the worker wrote to stderr before it died (a stack trace, typically); may be empty.</summary>
    public string StandardErrorTail { get; }

    private static string Describe(int processId, int exitCode, string standardErrorTail) =>
        $"Worker process {processId} exited with code {exitCode} while it had a request in flight." +
        (string.IsNullOrWhiteSpace(standardErrorTail) ? "" : $" The end of its stderr: {standardErrorTail.Trim()}");
}
