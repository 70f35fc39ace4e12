namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Thrown where a <see cref="System.Diagnostics.Debug.Assert(bool)"/> fails in learner or reference code while the
/// kata's tests run (see <see cref="UnhandledExceptions"/>). Deliberately not an <see cref="InvalidOperationException"/>,
/// so that a test expecting one of those cannot mistake a broken invariant for the documented behaviour.
/// </summary>
public sealed class DebugAssertFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DebugAssertFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public DebugAssertFailedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public DebugAssertFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
