namespace ConcurrencyKata;

/// <summary>One request: its line on the wire and the task waiting for its reply.</summary>
/// <remarks>
/// A request is in exactly one place at a time: in the pool's queue, in flight on a worker, or done. Whoever takes
/// it out of the queue or off its worker completes <see cref="Completion"/>, under the pool's lock, exactly once.
/// Add members as you like: only <see cref="PrimePool"/> uses them.
/// </remarks>
internal sealed class Request
{
    // TODO (Step 4): its CancellationTokenRegistration, unregistered when the request completes.

    /// <summary>Creates the request with id <paramref name="id"/> for <paramref name="body"/> (<c>"check 7"</c>).</summary>
    public Request(long id, string body)
    {
        Id = id;
        Line = Protocol.FormatRequest(id, body);
    }

    /// <summary>Unique within the pool; assigned in queue order.</summary>
    public long Id { get; }

    /// <summary>"&lt;id&gt; &lt;body&gt;\n", as written to the worker's stdin.</summary>
    public string Line { get; }

    /// <summary>Completed exactly once. Continuations run asynchronously: never inside the pool's lock.</summary>
    public TaskCompletionSource<string> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
