namespace ConcurrencyKata.TestSupport;

/// <summary>Carries an exception that learner code threw on a <see cref="LearnerThread"/> back to the test thread,
/// with the name of the thread that threw it. The original exception is the inner exception.</summary>
public sealed class LearnerCodeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LearnerCodeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public LearnerCodeException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public LearnerCodeException(string message)
        : base(message)
    {
    }
}
