using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;
using NUnit.Framework.Internal.Commands;

namespace ConcurrencyKata.TestSupport;

/// <summary>Runs a test's set-up, body and tear-down on a dedicated background thread joined with a deadline
/// (see <see cref="ConcurrencyKata.Tests.TestAttribute"/>).</summary>
public sealed class DeadlineCommand : DelegatingTestCommand
{
    /// <summary>What a <see cref="SynchronizationLockException"/> means.</summary>
    public const string MonitorNeedsTheLock =
        "SynchronizationLockException: Monitor.PulseAll needs the lock. Monitor.Wait, Monitor.Pulse and Monitor.PulseAll may only " +
        "be called by the thread that holds the lock, on the object it locked: call them inside lock (_sync) { ... }. A pulse " +
        "\"after the lock, to keep the lock short\", or on another object, throws.";

    /// <summary>The runtime's own message for <see cref="SynchronizationLockException"/>, which is all that is left of
    /// it once it is wrapped (an <see cref="AggregateException"/> from CancellationTokenSource.Cancel, say).</summary>
    private static readonly string s_synchronizationLockMessage = new SynchronizationLockException().Message;

    /// <summary>True on the thread (and the threads it starts) of a test that runs under a deadline.</summary>
    private static readonly AsyncLocal<bool> s_underDeadline = new();

    /// <summary>Wraps <paramref name="innerCommand"/>.</summary>
    public DeadlineCommand(TestCommand innerCommand)
        : base(innerCommand)
    {
    }

    /// <summary>Whether the current test runs under a deadline.</summary>
    public static bool IsActive => s_underDeadline.Value;

    /// <inheritdoc/>
    public override TestResult Execute(TestExecutionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        TestResult? result = null;
        Exception? escaped = null;
        var thread = new Thread(() =>
        {
            try
            {
                s_underDeadline.Value = true;

                // Make NUnit's context (TestContext.CurrentContext, the result that asserts write to) this test's.
                context.EstablishExecutionEnvironment();
                result = innerCommand.Execute(context);
            }
            catch (Exception ex)
            {
                escaped = ex;
            }
        })
        {
            IsBackground = true,
            Name = $"test {Test.Name}",
        };

        thread.Start();
        TimeSpan limit = IsSystematic(Test) ? Deadlines.SystematicTest : Deadlines.WholeTest;
        if (!thread.Join(limit))
        {
            // The test's own thread is stuck inside learner code. It cannot be stopped, only abandoned: it is a
            // background thread and will not keep the test run alive.
            context.CurrentResult.SetResult(
                ResultState.Failure,
                $"Deadlock suspected: the test is still running after {Deadlines.Describe(limit)}. A call the test made directly " +
                "(one that should return at once, such as Put into a queue with room, Count, Dispose or Shutdown) is blocked in " +
                "your code: a wrong 'full'/'empty' check, a lock that some stuck thread still holds, or a join on a thread that " +
                "never ends. The test's thread is abandoned; the remaining tests go on. " +
                UnhandledExceptions.Describe(UnhandledExceptions.TakeAll()));
            return NameTheRule(context.CurrentResult);
        }

        if (escaped is not null)
        {
            context.CurrentResult.RecordException(escaped);
            return NameTheRule(context.CurrentResult);
        }

        return NameTheRule(result ?? context.CurrentResult);
    }

    /// <summary>Some exceptions mean one rule whatever the test: the failure says it, wherever the exception was
    /// thrown (the test's thread, a learner thread, a thread that died of it).</summary>
    private static TestResult NameTheRule(TestResult result)
    {
        string message = result.Message ?? "";
        if (result.ResultState.Status == TestStatus.Failed
            && (message.Contains(nameof(SynchronizationLockException), StringComparison.Ordinal)
                || message.Contains(s_synchronizationLockMessage, StringComparison.Ordinal))
            && !message.Contains(MonitorNeedsTheLock, StringComparison.Ordinal))
        {
            result.SetResult(result.ResultState, message + " " + MonitorNeedsTheLock, result.StackTrace);
        }

        return result;
    }

    /// <summary>Whether the test or its fixture is in category "Systematic" (<see cref="Systematic"/>).</summary>
    private static bool IsSystematic(ITest test)
    {
        for (ITest? t = test; t is not null; t = t.Parent)
        {
            if (t.Properties[NUnit.Framework.Internal.PropertyNames.Category].Contains(Systematic.Category))
            {
                return true;
            }
        }

        return false;
    }
}
