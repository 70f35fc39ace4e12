using System.Runtime.ExceptionServices;

namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Asserts that learner code throws a documented exception. Unlike a plain Throws assertion, a
/// <see cref="NotImplementedException"/> from a stub passes through unchanged, so the learner sees which step to
/// implement instead of "expected ArgumentOutOfRangeException but got NotImplementedException".
/// </summary>
public static class Expect
{
    /// <summary>Runs <paramref name="call"/> on the test thread and requires it to throw
    /// <typeparamref name="TException"/> (or a subclass).</summary>
    /// <param name="call">A call that does not block.</param>
    /// <param name="rule">The documented behaviour, e.g. "A capacity below 1 must throw ArgumentOutOfRangeException".</param>
    /// <returns>The exception, for further checks (ParamName, Message).</returns>
    public static TException Throws<TException>(Action call, string rule)
        where TException : Exception
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            call();
        }
        catch (TException expected)
        {
            return expected;
        }
        catch (NotImplementedException notYet)
        {
            ExceptionDispatchInfo.Capture(notYet).Throw();
        }
        catch (Exception other)
        {
            Assert.Fail($"Threw {other.GetType().Name} (\"{other.Message}\") instead of {typeof(TException).Name}. {rule}");
        }

        Assert.Fail($"Threw nothing, but should have thrown {typeof(TException).Name}. {rule}");
        return null!; // unreachable: Assert.Fail throws
    }

    /// <summary>Like <see cref="Throws{TException}(Action, string)"/>, for a call that returns a value.</summary>
    public static TException Throws<TException>(Func<object?> call, string rule)
        where TException : Exception
    {
        ArgumentNullException.ThrowIfNull(call);
        return Throws<TException>(() => { _ = call(); }, rule);
    }
}
