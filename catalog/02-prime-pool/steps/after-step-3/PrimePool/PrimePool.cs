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

    /// <summary>The lock that guards <see cref="_queue"/>, <see cref="_workers"/>, <see cref="_lastId"/>,
    /// <see cref="_disposed"/> and each worker's <see cref="Worker.InFlight"/>. Nothing slow happens under it: pipe
    /// writes and waits for processes happen outside.</summary>
    private readonly object _sync = new();

    /// <summary>Requests waiting for an idle worker, oldest first. Guarded by <see cref="_sync"/>.</summary>
    private readonly LinkedList<Request> _queue = new();

    /// <summary>The workers, in start order; never more than <see cref="MaxWorkers"/>. Guarded by <see cref="_sync"/>.</summary>
    private readonly List<Worker> _workers = [];

    /// <summary>The id of the last request; ids start at 1 and only grow. Guarded by <see cref="_sync"/>.</summary>
    private long _lastId;

    /// <summary>Set once by <see cref="Dispose"/>. Guarded by <see cref="_sync"/>.</summary>
    private bool _disposed;

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
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWorkers, 1);
        MaxWorkers = maxWorkers;
    }

    /// <summary>The most worker processes alive at once.</summary>
    public int MaxWorkers { get; }

    /// <summary>The process ids of the workers alive right now, in the order they started; empty before the first
    /// request and after <see cref="Dispose"/>. Another thread may change the set the moment it is read.</summary>
    public IReadOnlyList<int> WorkerProcessIds
    {
        get
        {
            // TODO (Step 4): leave out dead workers.
            lock (_sync)
            {
                return _workers.Select(w => w.ProcessId).ToArray();
            }
        }
    }

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
        Task<string> reply = SendAsync(Protocol.FormatCheck([n], 0, 1), cancellationToken);
        return IsPrimeCoreAsync(reply);

        static async Task<bool> IsPrimeCoreAsync(Task<string> reply) => Protocol.ParseVerdicts(await reply.ConfigureAwait(false), 1)[0];
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
        ArgumentNullException.ThrowIfNull(numbers);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);

        var results = new bool[numbers.Count];
        var chunks = new List<Task>();
        for (int start = 0; start < numbers.Count; start += chunkSize)
        {
            int count = Math.Min(chunkSize, numbers.Count - start);
            chunks.Add(CheckChunkAsync(SendAsync(Protocol.FormatCheck(numbers, start, count), cancellationToken), start, count));
        }

        return MapCoreAsync();

        // Each chunk puts its verdicts at its own offset: input order, whatever order the chunks finish in.
        async Task CheckChunkAsync(Task<string> reply, int offset, int count)
        {
            Protocol.ParseVerdicts(await reply.ConfigureAwait(false), count).CopyTo(results, offset);
        }

        async Task<IReadOnlyList<bool>> MapCoreAsync()
        {
            await Task.WhenAll(chunks).ConfigureAwait(false);
            return results;
        }
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
        ArgumentNullException.ThrowIfNull(request);
        if (!Protocol.IsOneLine(request))
        {
            throw new ArgumentException("A request is one line: it must not contain a line break.", nameof(request));
        }

        // TODO (Step 4): error replies fail that task only; the end of stdout means the worker died: fail its
        // request in flight with WorkerCrashedException and replace it; cancellation removes a queued request, or
        // frees the worker of a request in flight (and its late reply is ignored, by id).
        Request queued;
        var sends = new List<(Worker, Request)>();
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            queued = new Request(++_lastId, request);
            _queue.AddLast(queued);
            Dispatch(sends);
        }

        Write(sends);
        return queued.Completion.Task;
    }

    /// <summary>Ends every worker and fails every unanswered task with <see cref="ObjectDisposedException"/>. Later
    /// calls throw <see cref="ObjectDisposedException"/>; disposing again does nothing.</summary>
    /// <remarks>Closes each worker's stdin (a worker exits at the end of its input), gives them about a second to
    /// leave, kills the rest with their process trees, and waits until every worker process has exited. So it
    /// blocks for up to about a second, and leaves no process behind, even after a crash.</remarks>
    public void Dispose()
    {
        // TODO (Step 4): fail every queued and in-flight task with ObjectDisposedException; cope with dead workers.
        List<Worker> workers;
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            workers = [.. _workers];
            _workers.Clear();
        }

        foreach (Worker worker in workers)
        {
            worker.CloseInput();
        }

        foreach (Worker worker in workers)
        {
            if (!worker.Process.WaitForExit(TimeSpan.FromSeconds(1)))
            {
                worker.Kill();
                worker.Process.WaitForExit();
            }
        }
    }

    /// <summary>Like <see cref="Dispose"/>, but waits for the workers to exit without blocking a thread.</summary>
    /// <returns>A task that completes when every worker process has exited.</returns>
    public ValueTask DisposeAsync()
    {
        // TODO (Step 4): as Dispose, with Process.WaitForExitAsync instead of WaitForExit.
        throw new NotImplementedException("Step 4 (exercise 02): implement DisposeAsync. See Step 4 in exercises/02-prime-pool/README.md.");
    }

    /// <summary>Under the lock: hands queued requests to idle workers, and starts a worker while none is idle and
    /// there are fewer than <see cref="MaxWorkers"/>. Collects what to write in <paramref name="sends"/>; the caller
    /// writes it after releasing the lock.</summary>
    private void Dispatch(List<(Worker, Request)> sends)
    {
        while (!_disposed && _queue.First is { } first)
        {
            Worker? idle = _workers.Find(w => w.InFlight is null);
            if (idle is null)
            {
                if (_workers.Count >= MaxWorkers)
                {
                    return; // every worker is busy: the request waits
                }

                idle = StartWorker();
                _workers.Add(idle);
            }

            _queue.RemoveFirst();
            idle.InFlight = first.Value;
            sends.Add((idle, first.Value));
        }
    }

    /// <summary>Starts one worker process, with its reply loop.</summary>
    private Worker StartWorker()
    {
        Worker worker = Worker.Start();
        _ = Task.Run(() => ReadRepliesAsync(worker));
        return worker;
    }

    /// <summary>Writes each request to its worker's stdin, outside the lock, without waiting for the writes.</summary>
    private static void Write(List<(Worker, Request)> sends)
    {
        foreach ((Worker worker, Request request) in sends)
        {
            _ = worker.WriteAsync(request.Line);
        }
    }

    /// <summary>One worker's stdout: matches each reply to the request in flight by its id.</summary>
    private async Task ReadRepliesAsync(Worker worker)
    {
        while (await worker.ReadReplyAsync().ConfigureAwait(false) is { } line)
        {
            (string id, string body) = Protocol.SplitReply(line);
            var sends = new List<(Worker, Request)>();
            lock (_sync)
            {
                if (worker.InFlight is { } request && Protocol.TryParseId(id, out long replyId) && replyId == request.Id)
                {
                    request.Completion.TrySetResult(body);
                    worker.InFlight = null;
                    Dispatch(sends);
                }
            }

            Write(sends);
        }

        // End of stdout: the worker died (Step 4).
    }
}
