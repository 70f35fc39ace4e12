using System.Globalization;
using System.Text;

namespace ConcurrencyKata.TestSupport;

/// <summary>
/// What happened, in order, during one schedule that <see cref="Systematic"/> explored: which thread began or
/// finished which call, and which lock it asked for, took or released. A failing systematic test prints it as a step
/// table that the learner can follow line by line, like a level of the Deadlock Empire game.
/// </summary>
/// <remarks>
/// <para>Under Coyote only one controlled thread runs at a time, and the scheduler switches threads only at
/// synchronisation points (taking a lock, waiting, pulsing, starting or joining a task, and shared memory accesses
/// when race checking is on). The order of the steps is therefore the order in which they really happened.</para>
/// <para>Threads are the scenario's own labels ("taker-1", "transfer A→B"), set by <see cref="Start"/>.</para>
/// <para>No lock: this assembly is rewritten too, so a lock here would be one more point where Coyote switches threads,
/// and one more line in every schedule. Coyote runs one controlled thread at a time, so the log needs none. Use it
/// only from inside <see cref="Systematic.Explore"/>.</para>
/// </remarks>
public sealed class ScheduleLog
{
    /// <summary>The label of the controlled thread that is running; flows into the tasks it starts.</summary>
    private static readonly AsyncLocal<string?> s_thread = new();

    private readonly List<ScheduleStep> _steps = [];

    /// <summary>Calls that began and have not returned yet, per thread: what a stuck thread is stuck in.</summary>
    private readonly Dictionary<string, string> _running = new(StringComparer.Ordinal);

    private readonly List<(string Thread, Exception Exception)> _failures = [];

    /// <summary>Set by <see cref="Freeze"/>: the schedule has ended, what follows is Coyote unwinding it.</summary>
    private bool _frozen;

    /// <summary>What each thread holds or waits for right now, as the scenario's hooks describe it.</summary>
    private readonly Dictionary<string, string> _states = new(StringComparer.Ordinal);

    /// <summary>One line of the step table.</summary>
    /// <param name="Thread">The scenario's label of the thread.</param>
    /// <param name="Operation">What it did, e.g. "Put(1) begins", "waits for", "takes", "Take() returns 1".</param>
    /// <param name="Lock">The lock or object involved, if any.</param>
    public readonly record struct ScheduleStep(string Thread, string Operation, string Lock);

    /// <summary>The label of the current controlled thread ("test" for the scenario's own body).</summary>
    public static string CurrentThread => s_thread.Value ?? "test";

    /// <summary>The steps recorded so far.</summary>
    public IReadOnlyList<ScheduleStep> Steps
    {
        get
        {
            return [.. _steps];
        }
    }

    /// <summary>The first exception thrown by a thread of the scenario, with the thread's label, if any.</summary>
    public (string Thread, Exception Exception)? FirstFailure
    {
        get
        {
            return _failures.Count == 0 ? null : _failures[0];
        }
    }

    /// <summary>Adds a step for the current thread.</summary>
    /// <param name="operation">What the thread does.</param>
    /// <param name="lockName">The lock or object involved, or empty.</param>
    public void Record(string operation, string lockName = "")
    {
        string thread = CurrentThread;
        Quietly(() => _steps.Add(new ScheduleStep(thread, operation, lockName)));
    }

    /// <summary>Stops recording: the schedule is over. When Coyote finds a deadlock it ends the blocked threads by
    /// unwinding them, which runs their <c>finally</c> blocks (releasing locks they never really released). A hook that
    /// sees a blocked thread do anything calls this, so that the table ends where the schedule did.</summary>
    public void Freeze() => _frozen = true;

    /// <summary>Sets what the current thread holds or waits for (e.g. "holds A, waits for B"); shown for every thread
    /// still running when a schedule ends, which is how a deadlock reads. Empty forgets it.</summary>
    /// <param name="state">The thread's state, in the learner's terms.</param>
    public void SetState(string state)
    {
        string thread = CurrentThread;
        Quietly(() =>
        {
            if (string.IsNullOrEmpty(state))
            {
                _states.Remove(thread);
            }
            else
            {
                _states[thread] = state;
            }
        });
    }

    /// <summary>Starts a controlled thread (a task that Coyote schedules) named <paramref name="label"/>. Whatever it
    /// throws is recorded (and shown in the failure) before Coyote sees it.</summary>
    /// <param name="label">The thread's name in the step table, e.g. "taker-1".</param>
    /// <param name="body">The thread's work: calls into learner code, logged with <see cref="Call"/>.</param>
    /// <returns>The task; pass all of them to <see cref="AllFinish"/>.</returns>
    public Task Start(string label, Action body)
    {
        ArgumentNullException.ThrowIfNull(body);

        // Task.Run with an async lambda: Coyote controls it because this assembly is rewritten too.
        return Task.Run(async () =>
        {
            s_thread.Value = label;
            await Task.Yield(); // a scheduling point: the thread may start at any time after Start
            try
            {
                body();
            }
            catch (Exception ex) when (Remember(label, ex))
            {
                throw; // never reached: Remember returns false, the filter only records
            }
        });
    }

    /// <summary>Runs one call into learner code on the current thread, logging "<paramref name="call"/> begins"
    /// before and "<paramref name="call"/> returns" (or "throws …") after.</summary>
    /// <param name="call">How the call reads in the table, e.g. "Put(1)".</param>
    /// <param name="on">The object called, e.g. "queue".</param>
    /// <param name="body">The call.</param>
    public void Call(string call, string on, Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        _ = Call<object?>(call, on, () =>
        {
            body();
            return null;
        });
    }

    /// <summary>Like <see cref="Call(string, string, Action)"/>, for a call that returns a value, which is logged.</summary>
    /// <typeparam name="TResult">The call's result type.</typeparam>
    /// <param name="call">How the call reads in the table, e.g. "Take()".</param>
    /// <param name="on">The object called, e.g. "queue".</param>
    /// <param name="body">The call.</param>
    /// <returns>What the call returned.</returns>
    public TResult Call<TResult>(string call, string on, Func<TResult> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        string thread = CurrentThread;
        Quietly(() =>
        {
            _steps.Add(new ScheduleStep(thread, call + " begins", on));
            _running[thread] = call;
        });

        try
        {
            TResult result = body();
            Quietly(() =>
            {
                _running.Remove(thread);
                _steps.Add(new ScheduleStep(thread, result is null ? call + " returns" : $"{call} returns {Show(result)}", on));
            });
            return result;
        }
        catch (Exception ex) when (!IsCoyoteInternal(ex))
        {
            Quietly(() =>
            {
                _running.Remove(thread);
                _steps.Add(new ScheduleStep(thread, $"{call} throws {ex.GetType().Name}", on));
            });
            throw;
        }
    }

    /// <summary>Fails the schedule with <paramref name="rule"/> unless <paramref name="condition"/> holds.</summary>
    /// <param name="condition">An invariant that every schedule must keep.</param>
    /// <param name="rule">The broken rule, in the learner's terms.</param>
    /// <exception cref="ScheduleRuleBrokenException"><paramref name="condition"/> is false.</exception>
    public void Require(bool condition, string rule)
    {
        if (!condition)
        {
            Record("check fails: the broken rule is above the table");
            var broken = new ScheduleRuleBrokenException(rule);
            Remember(CurrentThread, broken);
            throw broken;
        }
    }

    /// <summary>Waits for every task of the scenario. Uses the array overload of <see cref="Task.WhenAll(Task[])"/>:
    /// on .NET 9 and later <c>Task.WhenAll(t1, t2)</c> binds to a span overload that Coyote does not control.</summary>
    /// <param name="tasks">The tasks from <see cref="Start"/>.</param>
    /// <returns>A task that completes when they all have.</returns>
    public static Task AllFinish(params Task[] tasks) => Task.WhenAll(tasks);

    /// <summary>The step table: one numbered line per step, then the calls that never returned.</summary>
    /// <returns>The table, ready to print.</returns>
    public string ToTable()
    {
        ScheduleStep[] steps;
        KeyValuePair<string, string>[] running;
        steps = [.. _steps];
        running = [.. _running];

        int threadWidth = Math.Max("thread".Length, steps.Select(s => s.Thread.Length).DefaultIfEmpty().Max());
        int operationWidth = Math.Max("operation".Length, steps.Select(s => s.Operation.Length).DefaultIfEmpty().Max());
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"  step  {"thread".PadRight(threadWidth)}  {"operation".PadRight(operationWidth)}  lock / object");
        table.AppendLine(CultureInfo.InvariantCulture, $"  ----  {new string('-', threadWidth)}  {new string('-', operationWidth)}  -------------");
        for (int i = 0; i < steps.Length; i++)
        {
            ScheduleStep s = steps[i];
            table.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {i + 1,4}  {s.Thread.PadRight(threadWidth)}  {s.Operation.PadRight(operationWidth)}  {s.Lock}").TrimEnd());
        }

        foreach ((string thread, string call) in running.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            string state = _states.TryGetValue(thread, out string? what) ? $" ({what})" : "";
            table.AppendLine(CultureInfo.InvariantCulture, $"  end of schedule: {thread} is still inside {call}, which never returned{state}");
        }

        return table.ToString();
    }

    /// <summary>Forgets everything: called before each schedule.</summary>
    internal void Clear()
    {
        _steps.Clear();
        _running.Clear();
        _failures.Clear();
        _states.Clear();
        _frozen = false;
    }

    /// <summary>Whether <paramref name="exception"/> is Coyote stopping a schedule, not a failure of the scenario.</summary>
    internal static bool IsCoyoteInternal(Exception exception) =>
        exception.GetType().FullName?.StartsWith("Microsoft.Coyote", StringComparison.Ordinal) == true
        || exception is ThreadInterruptedException;

    /// <summary>Records <paramref name="exception"/> as thrown by <paramref name="thread"/>, unless it is Coyote's own.</summary>
    /// <returns>Always <see langword="false"/>, for use in an exception filter that records without catching.</returns>
    internal bool Remember(string thread, Exception exception)
    {
        if (!IsCoyoteInternal(exception))
        {
            Quietly(() =>
            {
                if (!_failures.Any(f => ReferenceEquals(f.Exception, exception)))
                {
                    _failures.Add((thread, exception));
                }
            });
        }

        return false;
    }

    /// <summary>Runs the log's own bookkeeping without scheduling points: with race checking on, Coyote would
    /// otherwise switch threads at the log's field accesses too, which only makes schedules longer.</summary>
    private void Quietly(Action bookkeeping)
    {
        if (!_frozen)
        {
            Systematic.Quietly(bookkeeping);
        }
    }

    private static string Show(object value) => value switch
    {
        string text => $"\"{text}\"",
        bool flag => flag ? "true" : "false",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>A scenario's invariant did not hold in one of the schedules that <see cref="Systematic"/> explored.</summary>
public sealed class ScheduleRuleBrokenException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ScheduleRuleBrokenException()
    {
    }

    /// <summary>Creates the exception with the broken rule.</summary>
    /// <param name="message">The broken rule, in the learner's terms.</param>
    public ScheduleRuleBrokenException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the broken rule and its cause.</summary>
    /// <param name="message">The broken rule.</param>
    /// <param name="innerException">The cause.</param>
    public ScheduleRuleBrokenException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
