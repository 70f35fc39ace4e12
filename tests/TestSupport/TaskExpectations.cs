using System.Runtime.ExceptionServices;

namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Waits for tasks that learner code returned, always with a deadline and a diagnosis
/// (docs/testing.md, rules 4 and 15). The waiting happens on the test's own (dedicated) thread, never on the
/// thread pool. As with <see cref="Expect"/>, a <see cref="NotImplementedException"/> from a stub passes through
/// unchanged, so the learner sees which step to implement.
/// </summary>
public static class TaskExpectations
{
    /// <summary>Waits for <paramref name="task"/> to complete successfully; returns its result.</summary>
    /// <param name="task">The task.</param>
    /// <param name="diagnosisIfStuck">The likely cause if it has not completed at the deadline.</param>
    /// <param name="deadline">Default <see cref="Deadlines.Hang"/>.</param>
    /// <param name="diagnosisIfFailed">The likely cause if it failed or was cancelled instead.</param>
    public static T ShouldComplete<T>(this Task<T> task, string diagnosisIfStuck, TimeSpan? deadline = null, string? diagnosisIfFailed = null)
    {
        ((Task)task).ShouldComplete(diagnosisIfStuck, deadline, diagnosisIfFailed);
        return task.Result;
    }

    /// <summary>Waits for <paramref name="task"/> to complete successfully.</summary>
    /// <param name="task">The task.</param>
    /// <param name="diagnosisIfStuck">The likely cause if it has not completed at the deadline.</param>
    /// <param name="deadline">Default <see cref="Deadlines.Hang"/>.</param>
    /// <param name="diagnosisIfFailed">The likely cause if it failed or was cancelled instead.</param>
    public static void ShouldComplete(this Task task, string diagnosisIfStuck, TimeSpan? deadline = null, string? diagnosisIfFailed = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        WaitOrFail(task, diagnosisIfStuck, deadline);
        if (task.IsCanceled)
        {
            Assert.Fail($"The task was cancelled, but should have completed. {diagnosisIfFailed}");
        }

        if (task.Exception?.InnerException is { } failure)
        {
            RethrowIfNotImplemented(failure);
            Assert.Fail($"The task failed with {failure.GetType().Name} (\"{failure.Message}\"), but should have completed. {diagnosisIfFailed}");
        }
    }

    /// <summary>Waits for <paramref name="task"/> to fail with <typeparamref name="TException"/> (or a subclass);
    /// returns the exception.</summary>
    /// <param name="task">The task.</param>
    /// <param name="diagnosisIfStuck">The likely cause if it has not completed at the deadline.</param>
    /// <param name="diagnosisIfOther">The broken rule if it completed, was cancelled, or failed with something else.</param>
    /// <param name="deadline">Default <see cref="Deadlines.Hang"/>.</param>
    public static TException ShouldFail<TException>(this Task task, string diagnosisIfStuck, string diagnosisIfOther, TimeSpan? deadline = null)
        where TException : Exception
    {
        ArgumentNullException.ThrowIfNull(task);
        WaitOrFail(task, diagnosisIfStuck, deadline);
        Exception? failure = task.Exception?.InnerException;
        if (failure is TException expected)
        {
            return expected;
        }

        if (failure is not null)
        {
            RethrowIfNotImplemented(failure);
        }

        Assert.Fail(
            (failure is not null
                ? $"The task failed with {failure.GetType().Name} (\"{failure.Message}\")"
                : task.IsCanceled ? "The task was cancelled" : $"The task completed{Show(task)}") +
            $", but should have failed with {typeof(TException).Name}. {diagnosisIfOther}");
        return null!; // unreachable: Assert.Fail throws
    }

    /// <summary>Waits for <paramref name="task"/> to end as cancelled (<see cref="TaskStatus.Canceled"/>).</summary>
    /// <param name="task">The task.</param>
    /// <param name="diagnosisIfStuck">The likely cause if it has not completed at the deadline.</param>
    /// <param name="diagnosisIfOther">The broken rule if it completed or failed instead.</param>
    public static void ShouldBeCanceled(this Task task, string diagnosisIfStuck, string diagnosisIfOther)
    {
        ArgumentNullException.ThrowIfNull(task);
        WaitOrFail(task, diagnosisIfStuck, null);
        if (task.IsCanceled)
        {
            return;
        }

        Exception? failure = task.Exception?.InnerException;
        if (failure is not null)
        {
            RethrowIfNotImplemented(failure);
        }

        Assert.Fail(
            (failure is not null
                ? $"The task failed with {failure.GetType().Name} (\"{failure.Message}\")"
                : $"The task completed{Show(task)}") +
            $", but should have been cancelled. {diagnosisIfOther}");
    }

    /// <summary>Asserts that <paramref name="task"/> is still running after <paramref name="pause"/>: a one-sided
    /// check (docs/testing.md, rule 2), since too short a pause can only miss a task that completes too early.</summary>
    /// <param name="task">The task.</param>
    /// <param name="diagnosisIfCompleted">The broken rule if it has completed.</param>
    /// <param name="pause">Default <see cref="Settle.Default"/>.</param>
    public static void ShouldStayPending(this Task task, string diagnosisIfCompleted, TimeSpan? pause = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        Settle.OneSided(pause);
        if (!task.IsCompleted)
        {
            return;
        }

        Exception? failure = task.Exception?.InnerException;
        if (failure is not null)
        {
            RethrowIfNotImplemented(failure);
        }

        Assert.Fail(
            (failure is not null
                ? $"The task failed with {failure.GetType().Name} (\"{failure.Message}\")"
                : task.IsCanceled ? "The task was cancelled" : $"The task completed{Show(task)}") +
            $", but should still be waiting. {diagnosisIfCompleted}");
    }

    /// <summary>Requires <paramref name="call"/> to throw <typeparamref name="TException"/> at once, or to return a
    /// task that fails with it within the deadline: an <c>async</c> method reports argument errors through its
    /// task, a plain one throws them, and both are fine.</summary>
    /// <param name="call">The call, e.g. <c>() =&gt; pool.MapAsync(numbers, chunkSize: 0)</c>.</param>
    /// <param name="rule">The documented behaviour.</param>
    public static TException ThrowsOrFails<TException>(Func<Task> call, string rule)
        where TException : Exception
    {
        ArgumentNullException.ThrowIfNull(call);
        Task task;
        try
        {
            task = call();
        }
        catch (TException expected)
        {
            return expected;
        }
        catch (NotImplementedException)
        {
            throw;
        }
        catch (Exception other)
        {
            Assert.Fail($"Threw {other.GetType().Name} (\"{other.Message}\") instead of {typeof(TException).Name}. {rule}");
            return null!; // unreachable: Assert.Fail throws
        }

        // A task that ends as cancelled reports OperationCanceledException when awaited.
        if (typeof(TException).IsAssignableFrom(typeof(TaskCanceledException)))
        {
            WaitOrFail(task, $"The returned task has not completed. {rule}", null);
            if (task.IsCanceled)
            {
                return (TException)(Exception)new TaskCanceledException(task);
            }
        }

        return task.ShouldFail<TException>($"The returned task has not completed. {rule}", rule);
    }

    private static void WaitOrFail(Task task, string diagnosisIfStuck, TimeSpan? deadline)
    {
        TimeSpan limit = deadline ?? Deadlines.Hang;
        bool completed;
        try
        {
            completed = task.Wait(limit);
        }
        catch (AggregateException)
        {
            completed = true; // failed or cancelled: the callers look at how
        }

        if (!completed)
        {
            string died = UnhandledExceptions.Describe(UnhandledExceptions.TakeAll());
            Assert.Fail(died.Length > 0
                ? $"The task has not completed after {Deadlines.Describe(limit)}, because: {died}"
                : $"The task has not completed after {Deadlines.Describe(limit)}. {diagnosisIfStuck}");
        }
    }

    private static void RethrowIfNotImplemented(Exception failure)
    {
        if (failure is NotImplementedException)
        {
            ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    private static string Show(Task task) =>
        task.GetType().IsGenericType && task.GetType().GetProperty("Result") is { } result
            ? $" with {LearnerThread.Show(result.GetValue(task))}"
            : "";
}
