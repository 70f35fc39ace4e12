using System.Net;
using System.Text;

namespace ConcurrencyKata.Tests.PipelineTests;

/// <summary>
/// The message handler of a test's own <see cref="HttpClient"/>: it sends every request to the network, except the
/// URLs whose path holds one of these segments, which it answers itself, without the server:
/// <list type="bullet">
/// <item><c>/bug/</c>: throws <see cref="TestBugException"/> once the test calls <see cref="ReleaseBugs"/> (at once if
/// the handler was created with <c>bugsAtOnce</c>): a bug in a handler, which is not a failed request.</item>
/// <item><c>/stubborn/</c>: never answers; when its token is cancelled it keeps going until the test calls
/// <see cref="LetStubbornStop"/>, like a handler that needs time to clean up. <see cref="StubbornRunning"/> counts
/// those still going.</item>
/// <item><c>/memory/{list}</c>: answers <c>list</c> at once, in memory (<c>/memory/fail</c> answers status 500): for
/// runs of thousands of URLs, where only the crunch stage is under test.</item>
/// </list>
/// The tear-down releases everything (<see cref="ReleaseAll"/>), so no learner task stays parked after its test.
/// </summary>
public sealed class TestHandler : DelegatingHandler
{
    private readonly TaskCompletionSource _bugs = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _stubbornStarted;
    private int _stubbornRunning;
    private int _bugsThrown;
    private int _memoryServed;
    private volatile bool _disposed;

    /// <summary>Creates a handler in front of a <see cref="SocketsHttpHandler"/>.</summary>
    /// <param name="bugsAtOnce">Throw for <c>/bug/</c> URLs at once, instead of waiting for <see cref="ReleaseBugs"/>.</param>
    public TestHandler(bool bugsAtOnce = false)
        : base(new SocketsHttpHandler())
    {
        if (bugsAtOnce)
        {
            _bugs.TrySetResult();
        }
    }

    /// <summary><c>/stubborn/</c> requests started so far.</summary>
    public int StubbornStarted => Volatile.Read(ref _stubbornStarted);

    /// <summary><c>/stubborn/</c> requests still going (cancelled or not).</summary>
    public int StubbornRunning => Volatile.Read(ref _stubbornRunning);

    /// <summary><see cref="TestBugException"/>s thrown so far.</summary>
    public int BugsThrown => Volatile.Read(ref _bugsThrown);

    /// <summary><c>/memory/</c> requests answered so far.</summary>
    public int MemoryServed => Volatile.Read(ref _memoryServed);

    /// <summary>Whether the handler (and so its client) was disposed.</summary>
    public bool Disposed => _disposed;

    /// <summary>Lets the <c>/bug/</c> requests, present and future, throw.</summary>
    public void ReleaseBugs() => _bugs.TrySetResult();

    /// <summary>Lets the cancelled <c>/stubborn/</c> requests, present and future, end.</summary>
    public void LetStubbornStop() => _stop.TrySetResult();

    /// <summary>Releases everything: for the tear-down.</summary>
    public void ReleaseAll()
    {
        ReleaseBugs();
        LetStubbornStop();
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string path = request.RequestUri?.AbsolutePath ?? "";
        if (path.Contains("/bug/", StringComparison.Ordinal))
        {
            await _bugs.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _bugsThrown);
            throw new TestBugException($"A bug in the test's message handler, while sending {request.RequestUri}.");
        }

        if (path.Contains("/stubborn/", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _stubbornStarted);
            Interlocked.Increment(ref _stubbornRunning);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await _stop.Task.ConfigureAwait(false);
                throw;
            }
            finally
            {
                Interlocked.Decrement(ref _stubbornRunning);
            }
        }

        int memory = path.IndexOf("/memory/", StringComparison.Ordinal);
        if (memory >= 0)
        {
            string list = Uri.UnescapeDataString(path[(memory + "/memory/".Length)..]);
            Interlocked.Increment(ref _memoryServed);
            return list == "fail"
                ? new HttpResponseMessage(HttpStatusCode.InternalServerError) { RequestMessage = request }
                : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(list, Encoding.UTF8), RequestMessage = request };
        }

        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        base.Dispose(disposing);
    }
}
