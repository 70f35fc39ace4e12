namespace ConcurrencyKata;

/// <summary>One request: its line on the wire and the task waiting for its reply.</summary>
/// <remarks>
/// <para>A request is in exactly one place at a time: in the pool's queue (<see cref="Node"/> set), in flight on a
/// worker (<see cref="Worker"/> set, and that worker's <see cref="ConcurrencyKata.Worker.InFlight"/> is this
/// request), or done (neither). Both links are guarded by the pool's lock, and so is the moment it leaves either
/// place: whoever takes it out completes <see cref="Completion"/>, under that lock, exactly once.</para>
/// </remarks>
internal sealed class Request
{
    /// <summary>Creates the request with id <paramref name="id"/> for <paramref name="body"/> (<c>"check 7"</c>).</summary>
    public Request(long id, string body)
    {
        Id = id;
        Line = Protocol.FormatRequest(id, body);
    }

    /// <summary>Unique within the pool; assigned in queue order. Immutable.</summary>
    public long Id { get; }

    /// <summary>"&lt;id&gt; &lt;body&gt;\n", as written to the worker's stdin. Immutable.</summary>
    public string Line { get; }

    /// <summary>Completed exactly once, by whoever takes the request out of the queue or off its worker under the
    /// pool's lock. Continuations run asynchronously, so no caller's code ever runs inside the pool's lock or on a
    /// worker's reply loop.</summary>
    public TaskCompletionSource<string> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Its node in the pool's queue while it waits there, else null. Guarded by the pool's lock.</summary>
    public LinkedListNode<Request>? Node { get; set; }

    /// <summary>The worker it is in flight on, else null. Guarded by the pool's lock.</summary>
    public Worker? Worker { get; set; }

    /// <summary>The cancellation callback, unregistered once the request completes, so that a long-lived token
    /// does not keep finished requests alive. Guarded by the pool's lock.</summary>
    public CancellationTokenRegistration Registration { get; set; }

    /// <summary>Completes the task with the reply body and drops the cancellation callback.</summary>
    public void Succeed(string body)
    {
        Registration.Unregister();
        Completion.TrySetResult(body);
    }

    /// <summary>Fails the task and drops the cancellation callback.</summary>
    public void Fail(Exception exception)
    {
        Registration.Unregister();
        Completion.TrySetException(exception);
    }
}
