namespace ConcurrencyKata.Tests.PipelineTests;

/// <summary>What <see cref="TestHandler"/> throws for a <c>/bug/</c> URL: a bug, not a failed request. Neither the
/// fetcher nor the pipeline may turn it into a failed item; it must come out.</summary>
public sealed class TestBugException : Exception
{
    public TestBugException()
    {
    }

    public TestBugException(string message)
        : base(message)
    {
    }

    public TestBugException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
