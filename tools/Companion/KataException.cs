namespace ConcurrencyKata.Companion;

/// <summary>A problem the companion reports to the learner as a plain sentence (no stack trace).</summary>
internal sealed class KataException : Exception
{
    public KataException()
    {
    }

    public KataException(string message)
        : base(message)
    {
    }

    public KataException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
