using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Keeps an exception that escapes a thread from ending the test run. Normally such an exception (in a worker
/// thread the learner started, say) kills the test host and aborts every remaining test. Here it is recorded
/// instead, with the thread's name, and the test that was running fails with a named diagnosis
/// (docs/testing.md, rule 9). Uses .NET 10's <see cref="ExceptionHandling.SetUnhandledExceptionHandler"/>.
/// It also turns a failed <see cref="Debug.Assert(bool)"/> (an invariant check in learner or reference code) into an
/// exception on the thread that asserted: by default .NET ends the process on a failed assertion.
/// </summary>
public static class UnhandledExceptions
{
    /// <summary>The lock protecting <see cref="s_recorded"/> and <see cref="s_installed"/>.</summary>
    private static readonly object s_lock = new();

    /// <summary>Exceptions that escaped a thread and have not been reported yet. Guarded by <see cref="s_lock"/>.</summary>
    private static readonly List<(string Thread, Exception Exception)> s_recorded = [];

    /// <summary>Whether the process-wide handler is in place. Guarded by <see cref="s_lock"/>.</summary>
    private static bool s_installed;

    /// <summary>Installs the process-wide handler, once. Called by every entry point of the test support.</summary>
    public static void EnsureInstalled()
    {
        lock (s_lock)
        {
            if (s_installed)
            {
                return;
            }

            s_installed = true;
        }

        Trace.Listeners.Clear();
        Trace.Listeners.Add(new ThrowOnFailedAssertion());
        try
        {
            ExceptionHandling.SetUnhandledExceptionHandler(Record);
        }
        catch (InvalidOperationException)
        {
            // The host already set one: it then owns unhandled exceptions, and this safety net is simply absent.
        }
    }

    /// <summary>Returns and forgets the exceptions recorded since the last call.</summary>
    public static IReadOnlyList<(string Thread, Exception Exception)> TakeAll()
    {
        lock (s_lock)
        {
            var all = s_recorded.ToList();
            s_recorded.Clear();
            return all;
        }
    }

    /// <summary>Says what <paramref name="recorded"/> means, for a failure message; empty when there is nothing.</summary>
    public static string Describe(IReadOnlyList<(string Thread, Exception Exception)> recorded)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        if (recorded.Count == 0)
        {
            return "";
        }

        var (thread, exception) = recorded[0];
        return $"Thread '{thread}' died of an unhandled {exception.GetType().Name} (\"{exception.Message}\")" +
               (recorded.Count > 1 ? $", and {recorded.Count - 1} more thread(s) died the same way" : "") +
               ". An exception that escapes a thread ends the whole process: catch it inside the thread's loop, " +
               "keep it, and report it later (as WorkerPool.Shutdown does).";
    }

    private static bool Record(Exception exception)
    {
        lock (s_lock)
        {
            s_recorded.Add((Thread.CurrentThread.Name ?? $"#{Environment.CurrentManagedThreadId}", exception));
        }

        // Handled: the thread ends, the process (and the test run) goes on.
        return true;
    }

    /// <summary>Makes Debug.Assert and Debug.Fail throw instead of ending the process.</summary>
    private sealed class ThrowOnFailedAssertion : TraceListener
    {
        public override void Write(string? message)
        {
        }

        public override void WriteLine(string? message)
        {
        }

        public override void Fail(string? message, string? detailMessage) =>
            throw new DebugAssertFailedException(
                $"Debug.Assert failed: {message}{(string.IsNullOrEmpty(detailMessage) ? "" : " " + detailMessage)}. An invariant of the " +
                "data structure does not hold: some state changed without the lock, or a counter went out of range.");
    }
}
