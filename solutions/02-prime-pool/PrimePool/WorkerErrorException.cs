// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
namespace ConcurrencyKata;

/// <summary>
/// A worker answered a request with an error reply (<c>&lt;id&gt; error &lt;message&gt;</c>), or with a reply that
/// does not fit the request. Only that request's task fails: the worker is still alive and goes on serving.
/// </summary>
public sealed class WorkerErrorException : Exception
{
    /// <summary>Creates the exception with the worker's message.</summary>
    public WorkerErrorException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public WorkerErrorException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public WorkerErrorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
