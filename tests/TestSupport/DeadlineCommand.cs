using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;
using NUnit.Framework.Internal.Commands;

namespace ConcurrencyKata.TestSupport;

/// <summary>Runs a test's set-up, body and tear-down on a dedicated background thread joined with a deadline
/// (see <see cref="ConcurrencyKata.Tests.TestAttribute"/>).</summary>
public sealed class DeadlineCommand : DelegatingTestCommand
{
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
        TimeSpan limit = IsInCategory(Test, Systematic.Category) ? Deadlines.SystematicTest
            : IsInCategory(Test, Deadlines.ProcessClusterCategory) ? Deadlines.ProcessClusterTest
            : Deadlines.WholeTest;
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
            return context.CurrentResult;
        }

        if (escaped is not null)
        {
            context.CurrentResult.RecordException(escaped);
            return context.CurrentResult;
        }

        return result ?? context.CurrentResult;
    }

    /// <summary>Whether the test or its fixture is in <paramref name="category"/> ("Systematic": <see cref="Systematic"/>;
    /// "ProcessCluster": <see cref="Deadlines.ProcessClusterCategory"/>).</summary>
    private static bool IsInCategory(ITest test, string category)
    {
        for (ITest? t = test; t is not null; t = t.Parent)
        {
            if (t.Properties[NUnit.Framework.Internal.PropertyNames.Category].Contains(category))
            {
                return true;
            }
        }

        return false;
    }
}
