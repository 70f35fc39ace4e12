namespace ConcurrencyKata;

/// <summary>One request: its line on the wire and the task waiting for its reply.</summary>
/// <remarks>
/// A request is in exactly one place at a time: in the pool's queue, in flight on a worker, or done. Whoever takes
/// it out of the queue or off its worker completes <see cref="Completion"/>, under the pool's lock, exactly once.
/// Add members as you like: only <see cref="PrimePool"/> uses them.
/// </remarks>
internal sealed class Request
{
    // TODO (Step 3): its node in the pool's queue while it waits there, and the worker it is in flight on (both
    // guarded by the pool's lock).
    // TODO (Step 4): its CancellationTokenRegistration, unregistered when the request completes.

    /// <summary>Creates the request with id <paramref name="id"/> for <paramref name="body"/> (<c>"check 7"</c>).</summary>
    public Request(long id, string body)
    {
        // TODO (Step 3): keep the id, and the line to write (Protocol.FormatRequest).
        throw new NotImplementedException("Step 3 (exercise 02): implement the Request constructor. See Step 3 in exercises/02-prime-pool/README.md.");
    }

    /// <summary>Unique within the pool; assigned in queue order.</summary>
    public long Id =>
        // TODO (Step 3)
        throw new NotImplementedException("Step 3 (exercise 02): implement Request.Id. See Step 3 in exercises/02-prime-pool/README.md.");

    /// <summary>"&lt;id&gt; &lt;body&gt;\n", as written to the worker's stdin.</summary>
    public string Line =>
        // TODO (Step 3)
        throw new NotImplementedException("Step 3 (exercise 02): implement Request.Line. See Step 3 in exercises/02-prime-pool/README.md.");

    /// <summary>Completed exactly once. Create it with <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/>:
    /// otherwise the caller's continuation runs inside your lock, on the worker's reply loop.</summary>
    public TaskCompletionSource<string> Completion =>
        // TODO (Step 3)
        throw new NotImplementedException("Step 3 (exercise 02): implement Request.Completion. See Step 3 in exercises/02-prime-pool/README.md.");
}
