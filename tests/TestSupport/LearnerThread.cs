using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Runs one piece of learner code on a dedicated background thread, so that a test can watch it block, wake it,
/// and join it with a deadline. Whatever the code does (returns, throws, deadlocks, spins), the test ends with a
/// result or a named failure: an exception never escapes onto a raw thread (that would abort the whole test run)
/// and a deadlock never hangs the run.
/// </summary>
/// <remarks>
/// A dedicated thread, not a thread-pool task: on a 2-core machine, blocked pool threads starve the very code that
/// would unblock them (docs/testing.md, rule 8).
/// </remarks>
public sealed class LearnerThread
{
    /// <summary>The lock protecting <see cref="s_started"/>.</summary>
    private static readonly object s_registryLock = new();

    /// <summary>Every thread started, with the id of the test that started it; <see cref="ConcurrencyTest"/>
    /// checks at tear-down that none of a test's threads is still running. Guarded by <see cref="s_registryLock"/>.</summary>
    private static readonly List<(string TestId, LearnerThread Thread)> s_started = [];

    private readonly Thread _thread;
    private readonly Func<object?> _body;

    /// <summary>Set by the thread when the body has returned or thrown. Its Set/Wait pair also publishes
    /// <see cref="_result"/> and <see cref="_exception"/> to the test thread.</summary>
    private readonly ManualResetEventSlim _finished = new(false);

    private object? _result;
    private Exception? _exception;

    /// <summary>Whether the thread has got past its own start-up and is inside the learner's code.</summary>
    private volatile bool _entered;

    static LearnerThread() => UnhandledExceptions.EnsureInstalled();

    private LearnerThread(string name, Func<object?> body)
    {
        Name = name;
        _body = body;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
    }

    /// <summary>The name used in failure messages, e.g. <c>"taker-2"</c>.</summary>
    public string Name { get; }

    /// <summary>Whether the code has returned or thrown.</summary>
    public bool IsFinished => _finished.IsSet;

    /// <summary>Whether the thread is inside the learner's code and parked (waiting on a monitor, a lock, an event,
    /// a join or a sleep), as opposed to running or finished.</summary>
    public bool IsWaiting =>
        _entered && !IsFinished && (_thread.ThreadState & System.Threading.ThreadState.WaitSleepJoin) != 0;

    /// <summary>The exception the code threw, or <see langword="null"/>. Only meaningful once <see cref="IsFinished"/>.</summary>
    public Exception? Exception => IsFinished ? _exception : null;

    /// <summary>What the code returned (<see langword="null"/> for an <see cref="Action"/>). Only meaningful once
    /// <see cref="IsFinished"/> without an <see cref="Exception"/>.</summary>
    public object? Result => IsFinished ? _result : null;

    /// <summary>Starts <paramref name="body"/> on a new background thread called <paramref name="name"/>.</summary>
    public static LearnerThread Start(string name, Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return Start(name, () =>
        {
            body();
            return (object?)null;
        });
    }

    /// <summary>Starts <paramref name="body"/> on a new background thread called <paramref name="name"/>; its
    /// return value becomes <see cref="Result"/>.</summary>
    public static LearnerThread Start<TResult>(string name, Func<TResult> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var learner = new LearnerThread(name, () => body());
        lock (s_registryLock)
        {
            s_started.Add((TestContext.CurrentContext.Test.ID, learner));
        }

        learner._thread.Start();
        return learner;
    }

    /// <summary>Waits until the code has finished, at most <paramref name="deadline"/> (default
    /// <see cref="Deadlines.Hang"/>).</summary>
    /// <returns>Whether it finished in time.</returns>
    public bool TryJoin(TimeSpan? deadline = null) => _finished.Wait(deadline ?? Deadlines.Hang);

    /// <summary>
    /// Asserts that the call is blocked: polls until the thread is parked inside the learner's code (it passes),
    /// or has finished (it fails with <paramref name="diagnosisIfReturned"/>), or neither happens before the
    /// deadline (it fails: the code is spinning). No duration is guessed (docs/testing.md, rule 3).
    /// </summary>
    /// <param name="diagnosisIfReturned">The broken rule, in the learner's terms, if the call returned instead,
    /// e.g. "Put returned although the queue was full: Put must wait while Count == Capacity."</param>
    public void ShouldBlock(string diagnosisIfReturned)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (IsFinished)
            {
                FailBecauseFinished(diagnosisIfReturned);
            }

            if (IsWaiting)
            {
                // Seen parked once. Look again a moment later: a thread can park for an instant on a JIT or
                // class-initialisation lock on its way in. A pause too short only lets a bug slip by.
                Settle.OneSided(TimeSpan.FromMilliseconds(20));
                if (IsFinished)
                {
                    FailBecauseFinished(diagnosisIfReturned);
                }

                if (IsWaiting)
                {
                    return;
                }
            }

            if (clock.Elapsed > Deadlines.Hang)
            {
                Assert.Fail(
                    $"{Name} should be blocked, but after {Deadlines.Describe(Deadlines.Hang)} it is neither waiting nor finished: " +
                    "it keeps running. A blocked call must wait (Monitor.Wait), not spin in a loop re-checking the condition. " +
                    diagnosisIfReturned);
            }

            Thread.Sleep(1);
        }
    }

    /// <summary>Asserts that the code finishes within the deadline and did not throw; returns its result.</summary>
    /// <param name="diagnosisIfStuck">The likely cause if it is still blocked, e.g. "lost wake-up: Take was never
    /// woken after Put — do you PulseAll after adding?"</param>
    /// <param name="deadline">Default <see cref="Deadlines.Hang"/>.</param>
    /// <param name="diagnosisIfThrew">The likely cause if it threw instead.</param>
    public object? ShouldFinish(string diagnosisIfStuck, TimeSpan? deadline = null, string? diagnosisIfThrew = null)
    {
        JoinOrFail(diagnosisIfStuck, deadline);
        RethrowIfFailed(diagnosisIfThrew);
        return _result;
    }

    /// <summary>Asserts that the code finishes within the deadline by throwing <typeparamref name="TException"/>
    /// (or a subclass); returns the exception.</summary>
    /// <param name="diagnosisIfStuck">The likely cause if it is still blocked.</param>
    /// <param name="diagnosisIfOther">The broken rule if it returned, or threw something else.</param>
    public TException ShouldThrow<TException>(string diagnosisIfStuck, string diagnosisIfOther)
        where TException : Exception
    {
        JoinOrFail(diagnosisIfStuck, null);
        if (_exception is TException expected)
        {
            return expected;
        }

        RethrowIfNotImplemented();
        Assert.Fail(_exception is null
            ? $"{Name} returned {Show(_result)}, but should have thrown {typeof(TException).Name}. {diagnosisIfOther}"
            : $"{Name} threw {_exception.GetType().Name} (\"{_exception.Message}\"), but should have thrown {typeof(TException).Name}. {diagnosisIfOther}");
        return null!; // unreachable: Assert.Fail throws
    }

    /// <summary>Fails the current test if any thread it started is still running (docs/testing.md, rule 14).
    /// Called by <see cref="ConcurrencyTest"/> at tear-down.</summary>
    /// <param name="grace">How long a thread that is on its way out may take to finish.</param>
    /// <param name="report">False when the test has already failed: its threads are then only forgotten, so that
    /// its own, more precise failure message stands alone.</param>
    public static void AssertNoneLeftRunning(TimeSpan grace, bool report = true)
    {
        string testId = TestContext.CurrentContext.Test.ID;
        List<LearnerThread> mine;
        lock (s_registryLock)
        {
            mine = s_started.Where(s => s.TestId == testId).Select(s => s.Thread).ToList();
            s_started.RemoveAll(s => s.TestId == testId);
        }

        if (!report)
        {
            return;
        }

        var clock = Stopwatch.StartNew();
        var stuck = mine.Where(t => !t.TryJoin(Max(TimeSpan.Zero, grace - clock.Elapsed))).Select(t => t.Name).ToList();
        if (stuck.Count > 0)
        {
            Assert.Fail(
                $"Still running after the test ended: {string.Join(", ", stuck)}. A blocked call was never woken " +
                "(lost wake-up?), or ignores its CancellationToken. These background threads are abandoned.");
        }
    }

    /// <summary>Rethrows the code's exception on the test thread: a <see cref="NotImplementedException"/> as it is
    /// (its message names the step to implement), anything else wrapped in a <see cref="LearnerCodeException"/>
    /// that says which thread threw it.</summary>
    /// <param name="diagnosis">The likely cause, appended to the message.</param>
    public void RethrowIfFailed(string? diagnosis = null)
    {
        if (_exception is null)
        {
            return;
        }

        RethrowIfNotImplemented();
        throw new LearnerCodeException(
            $"{Name} threw {_exception.GetType().Name}: {_exception.Message}{(diagnosis is null ? "" : " " + diagnosis)}",
            _exception);
    }

    internal static string Show(object? value)
    {
        // A value in a failure message is evidence, not the point: the rule that follows it must stay on screen, so a
        // long value (a record holding an exception and its stack trace) is cut to one short line.
        const int Longest = 200;
        string text = value switch
        {
            null => "null",
            string s => $"\"{s}\"",
            _ => value.ToString() ?? value.GetType().Name,
        };
        text = string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return text.Length <= Longest ? text : string.Concat(text.AsSpan(0, Longest), "…");
    }

    private void JoinOrFail(string diagnosisIfStuck, TimeSpan? deadline)
    {
        TimeSpan limit = deadline ?? Deadlines.Hang;
        if (!TryJoin(limit))
        {
            // A thread that died of an unhandled exception is the likelier culprit than the diagnosis guessed here.
            string died = UnhandledExceptions.Describe(UnhandledExceptions.TakeAll());
            Assert.Fail(died.Length > 0
                ? $"{Name} is still blocked after {Deadlines.Describe(limit)}, because: {died}"
                : $"Deadlock suspected: {Name} is still blocked after {Deadlines.Describe(limit)}. {diagnosisIfStuck}");
        }
    }

    private void FailBecauseFinished(string diagnosisIfReturned)
    {
        RethrowIfNotImplemented();
        Assert.Fail(_exception is null
            ? $"{Name} should still be blocked, but it returned {Show(_result)}. {diagnosisIfReturned}"
            : $"{Name} should still be blocked, but it threw {_exception.GetType().Name} (\"{_exception.Message}\"). {diagnosisIfReturned}");
    }

    private void RethrowIfNotImplemented()
    {
        if (_exception is NotImplementedException)
        {
            ExceptionDispatchInfo.Capture(_exception).Throw();
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private void Run()
    {
        try
        {
            _entered = true;
            _result = _body();
        }
        catch (Exception ex)
        {
            // Caught here, on the thread: an exception that escapes a raw thread ends the whole test process.
            _exception = ex;
        }
        finally
        {
            _finished.Set();
        }
    }
}
