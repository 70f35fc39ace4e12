namespace ConcurrencyKata;

/// <summary>
/// A pool of worker <em>processes</em> that check numbers for primality: the .NET counterpart of Python's
/// <c>ProcessPoolExecutor</c>. Each worker is a separate OS process running the PrimeWorker program, spoken to over
/// its stdin and stdout pipes with the line protocol described in exercises/02-prime-pool/README.md.
/// </summary>
/// <remarks>
/// <para>Workers start lazily, one per request that finds no idle worker, up to <see cref="MaxWorkers"/>; then
/// they are reused. A worker handles one request at a time (it is a single-threaded program); further requests
/// wait in the pool's queue, first come, first served, and go to whichever worker becomes idle first.</para>
/// <para>Every member is thread-safe. No member blocks while waiting for a worker: the <c>...Async</c> methods
/// return a task at once. <see cref="Dispose"/> blocks for at most about a second per call while it ends the
/// workers; <see cref="DisposeAsync"/> waits the same time without blocking a thread.</para>
/// <para>When a worker dies, every task in flight on it fails with <see cref="WorkerCrashedException"/> (its exit
/// code and process id inside), and the pool replaces it: at once if requests are waiting, otherwise on the next
/// request. Python's pool instead becomes "broken" and refuses all further work. Here a crash stays contained in
/// the one worker and the tasks it was running, which is the point of using processes.</para>
/// <para>An error reply (for a malformed request) fails only that request's task with
/// <see cref="WorkerErrorException"/>; the worker lives on.</para>
/// </remarks>
public sealed class PrimePool : IDisposable, IAsyncDisposable
{
    // The pieces, one file each: this class decides (which request goes to which worker, what a reply or a death
    // means), under one lock; Worker.cs is one process and its pipes; Request.cs one request and the task waiting
    // for it; Protocol.cs the line format.
    // TODO (Step 3): the state, all of it guarded by one private lock object (document what it guards):
    //   - the queue of requests waiting for an idle worker (a LinkedList<Request> makes removing a cancelled one easy);
    //   - the workers (Worker), each with the request in flight on it (at most one);
    //   - the id of the last request (ids start at 1 and only grow), and whether the pool is disposed.

    /// <summary>Creates a pool of at most <see cref="Environment.ProcessorCount"/> workers. No process starts yet.</summary>
    public PrimePool()
        : this(Environment.ProcessorCount)
    {
    }

    /// <summary>Creates a pool of at most <paramref name="maxWorkers"/> worker processes. No process starts yet:
    /// workers start on demand.</summary>
    /// <param name="maxWorkers">The most worker processes alive at once; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxWorkers"/> is less than 1.</exception>
    public PrimePool(int maxWorkers)
    {
        // TODO (Step 3): validate, then remember maxWorkers. Start no process here.
        throw new NotImplementedException("Step 3 (exercise 02): implement the PrimePool constructor. See Step 3 in exercises/02-prime-pool/README.md.");
    }

    /// <summary>The most worker processes alive at once.</summary>
    public int MaxWorkers =>
        // TODO (Step 3)
        throw new NotImplementedException("Step 3 (exercise 02): implement MaxWorkers. See Step 3 in exercises/02-prime-pool/README.md.");

    /// <summary>The process ids of the workers alive right now, in the order they started; empty before the first
    /// request and after <see cref="Dispose"/>. Another thread may change the set the moment it is read.</summary>
    public IReadOnlyList<int> WorkerProcessIds =>
        // TODO (Step 3): a copy (ToArray), made under the lock: the list you return must not change under the caller.
        // TODO (Step 4): leave out dead workers.
        throw new NotImplementedException("Step 3 (exercise 02): implement WorkerProcessIds. See Step 3 in exercises/02-prime-pool/README.md.");

    /// <summary>Checks one number in a worker process: Python's <c>executor.submit(is_prime, n)</c>.</summary>
    /// <param name="n">The number to check.</param>
    /// <param name="cancellationToken">Cancels the request: removed from the queue if it is still waiting there;
    /// if a worker is already on it, the task ends as cancelled and the worker's late answer is ignored.</param>
    /// <returns>A task that completes with whether <paramref name="n"/> is prime.</returns>
    /// <remarks>Returns at once. The task fails with <see cref="WorkerCrashedException"/> if the worker dies while
    /// on it, and with <see cref="ObjectDisposedException"/> if the pool is disposed first.</remarks>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public Task<bool> IsPrimeAsync(long n, CancellationToken cancellationToken = default)
    {
        // TODO (Step 3): send "check <n>" (Protocol.FormatCheck, through the same path as SendAsync) and turn the reply
        // "ok 1" / "ok 0" into true / false (Protocol.ParseVerdicts: anything else is a WorkerErrorException).
        throw new NotImplementedException("Step 3 (exercise 02): implement IsPrimeAsync. See Step 3 in exercises/02-prime-pool/README.md.");
    }

    /// <summary>Checks many numbers, <paramref name="chunkSize"/> numbers per message to a worker: Python's
    /// <c>executor.map(is_prime, numbers, chunksize=...)</c>.</summary>
    /// <param name="numbers">The numbers to check.</param>
    /// <param name="chunkSize">How many numbers go to a worker in one request; at least 1. Bigger chunks mean fewer
    /// messages (less overhead per number) but coarser load balancing.</param>
    /// <param name="cancellationToken">Cancels every chunk not answered yet.</param>
    /// <returns>A task that completes with one verdict per number, in the order of <paramref name="numbers"/>,
    /// whatever order the chunks finish in.</returns>
    /// <remarks>Returns at once; the chunks are queued together and spread over the workers. If one chunk fails,
    /// the others are cancelled and the task fails with that chunk's exception.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="numbers"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunkSize"/> is less than 1.</exception>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public Task<IReadOnlyList<bool>> MapAsync(IReadOnlyList<long> numbers, int chunkSize = 1, CancellationToken cancellationToken = default)
    {
        // TODO (Step 3): validate; split into chunks of chunkSize (the last one may be shorter); send "check a,b,c" per
        // chunk (Protocol.FormatCheck), all at once; put each chunk's verdicts at that chunk's offset in one result
        // array; await them all (Task.WhenAll).
        // TODO (Step 4): if one chunk fails, cancel the others (a linked CancellationTokenSource) and fail with that
        // chunk's exception; a cancelled map ends as cancelled, with the caller's token.
        throw new NotImplementedException("Step 3 (exercise 02): implement MapAsync. See Step 3 in exercises/02-prime-pool/README.md.");
    }

    /// <summary>Sends one raw request to a worker and returns its reply: the primitive the other methods build on,
    /// and the way to use the protocol's test hooks (<c>hold</c>, <c>wait</c>, <c>exit 42</c>, <c>noise 100000</c>).</summary>
    /// <param name="request">The request without its id, e.g. <c>"check 7,8,9"</c>; the pool adds the id.</param>
    /// <param name="cancellationToken">Cancels the request, as for <see cref="IsPrimeAsync"/>.</param>
    /// <returns>A task that completes with the reply without its id, e.g. <c>"ok 101"</c> or <c>"ok"</c>.</returns>
    /// <remarks>Returns at once. The task fails with <see cref="WorkerErrorException"/> for an error reply, with
    /// <see cref="WorkerCrashedException"/> if the worker dies while on it, and with
    /// <see cref="ObjectDisposedException"/> if the pool is disposed first.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="request"/> contains a line break (one request is one line).</exception>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public Task<string> SendAsync(string request, CancellationToken cancellationToken = default)
    {
        // TODO (Step 3): validate (one line: Protocol.IsOneLine). Under the lock: give the request the next id, queue
        // it, then dispatch: hand queued requests to idle workers, and start a worker (Worker.Start) while there are
        // fewer than MaxWorkers. Outside the lock: write each request dispatch chose (Worker.WriteAsync).
        // Each worker has a reply loop (await Worker.ReadReplyAsync) that, under the lock, completes the request in
        // flight if the reply carries its id, then dispatches again; it writes what dispatch chose outside the lock.
        // TODO (Step 4): error replies fail that task only; the end of stdout means the worker died: wait for its
        // exit, fail its request in flight with WorkerCrashedException and replace it; cancellation removes a queued
        // request, or frees the worker of a request in flight (and its late reply is ignored, by id).
        throw new NotImplementedException("Step 3 (exercise 02): implement SendAsync. See Step 3 in exercises/02-prime-pool/README.md.");
    }

    /// <summary>Ends every worker and fails every unanswered task with <see cref="ObjectDisposedException"/>. Later
    /// calls throw <see cref="ObjectDisposedException"/>; disposing again does nothing.</summary>
    /// <remarks>Closes each worker's stdin (a worker exits at the end of its input), gives them about a second to
    /// leave, kills the rest with their process trees, and waits until every worker process has exited. So it
    /// blocks for up to about a second, and leaves no process behind, even after a crash.</remarks>
    public void Dispose()
    {
        // TODO (Step 3): mark the pool disposed (under the lock); close each worker's stdin; wait briefly for each to
        // exit; kill what is left (Process.Kill(entireProcessTree: true)) and wait for the exit.
        // TODO (Step 4): fail every queued and in-flight task with ObjectDisposedException; cope with dead workers.
        throw new NotImplementedException("Step 3 (exercise 02): implement Dispose. See Step 3 in exercises/02-prime-pool/README.md.");
    }

    /// <summary>Like <see cref="Dispose"/>, but waits for the workers to exit without blocking a thread.</summary>
    /// <returns>A task that completes when every worker process has exited.</returns>
    public ValueTask DisposeAsync()
    {
        // TODO (Step 4): as Dispose, with Process.WaitForExitAsync instead of WaitForExit.
        throw new NotImplementedException("Step 4 (exercise 02): implement DisposeAsync. See Step 4 in exercises/02-prime-pool/README.md.");
    }
}
