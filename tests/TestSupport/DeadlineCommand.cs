using ConcurrencyKata.Companion;
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

    /// <summary>
    /// KATA_STOP_AFTER_FAILING_STEP=1 (the catalog sets it): once a test of step N has failed, tests of later steps
    /// are skipped. The earliest failing step is what the learner's board shows and what judges a known-wrong
    /// implementation; the later steps of wrong code mostly wait out deadlines.
    /// </summary>
    private static readonly bool s_stopAfterFailingStep = Environment.GetEnvironmentVariable("KATA_STOP_AFTER_FAILING_STEP") == "1";

    /// <summary>The earliest step with a failed test in this run (int.MaxValue: none yet); see <see cref="s_stopAfterFailingStep"/>.</summary>
    private static int s_failedStep = int.MaxValue;

    /// <summary>Guards <see cref="s_leadStep"/> and <see cref="s_lead"/>.</summary>
    private static readonly object s_leadSync = new();

    /// <summary>The step whose failures <see cref="s_lead"/> holds: the earliest failing step (guarded by <see cref="s_leadSync"/>).</summary>
    private static int s_leadStep = int.MaxValue;

    /// <summary>The distinct diagnoses that name a rule among the failures of <see cref="s_leadStep"/>, in the order
    /// they failed (guarded by <see cref="s_leadSync"/>). The board leads with the first three of them
    /// (<c>Diagnosis.Lead</c>): once there are three, no later failure of that step can change what it shows.</summary>
    private static readonly List<string> s_lead = [];

    /// <summary>Whether the current test runs under a deadline.</summary>
    public static bool IsActive => s_underDeadline.Value;

    /// <inheritdoc/>
    public override TestResult Execute(TestExecutionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        int? step = StepOf(Test);
        int failedStep = Volatile.Read(ref s_failedStep);
        if (s_stopAfterFailingStep && step > failedStep)
        {
            context.CurrentResult.SetResult(ResultState.Skipped, $"Not run: a test of Step {failedStep} failed first (KATA_STOP_AFTER_FAILING_STEP=1).");
            return context.CurrentResult;
        }

        if (s_stopAfterFailingStep && step == failedStep && LeadIsSettled(failedStep))
        {
            context.CurrentResult.SetResult(ResultState.Skipped, $"Not run: Step {failedStep} already shows {Diagnosis.LeadSize} rules on the board (KATA_STOP_AFTER_FAILING_STEP=1).");
            return context.CurrentResult;
        }

        TestResult outcome = Run(context);
        if (s_stopAfterFailingStep && step is int failedHere && outcome.ResultState.Status == TestStatus.Failed)
        {
            RecordForTheLead(failedHere, outcome);
        }

        if (step is int failing && outcome.ResultState.Status == TestStatus.Failed)
        {
            int seen;
            do
            {
                seen = Volatile.Read(ref s_failedStep);
            }
            while (failing < seen && Interlocked.CompareExchange(ref s_failedStep, failing, seen) != seen);
        }

        return outcome;
    }

    /// <summary>Whether <paramref name="step"/> has failed with as many distinct rules as the board shows.</summary>
    private static bool LeadIsSettled(int step)
    {
        lock (s_leadSync)
        {
            return s_leadStep == step && s_lead.Count >= Diagnosis.LeadSize;
        }
    }

    /// <summary>Keeps the failure's diagnosis if it names a rule and belongs to the earliest failing step.</summary>
    private void RecordForTheLead(int step, TestResult outcome)
    {
        var diagnosis = Diagnosis.Of(Test.Name, outcome.Message ?? "");
        lock (s_leadSync)
        {
            if (step < s_leadStep)
            {
                s_leadStep = step;
                s_lead.Clear();
            }

            if (step == s_leadStep && diagnosis.Kind == DiagnosisKind.NamesARule && !s_lead.Contains(diagnosis.Text))
            {
                s_lead.Add(diagnosis.Text);
            }
        }
    }

    /// <summary>Runs the test on its own thread, joined with the whole-test deadline.</summary>
    private TestResult Run(TestExecutionContext context)
    {
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

    /// <summary>The step of the test or its fixture: the category StepN that <see cref="StepAttribute"/> gives it.</summary>
    private static int? StepOf(ITest test)
    {
        for (ITest? t = test; t is not null; t = t.Parent)
        {
            foreach (object? category in t.Properties[NUnit.Framework.Internal.PropertyNames.Category])
            {
                if (category is string text && text.StartsWith("Step", StringComparison.Ordinal)
                    && int.TryParse(text.AsSpan(4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int step))
                {
                    return step;
                }
            }
        }

        return null;
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
