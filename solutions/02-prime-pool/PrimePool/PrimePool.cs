using System.ComponentModel;
using System.Diagnostics;

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
/// <para>The pieces, one file each: this class decides (which request goes to which worker, what a reply or a
/// death means), under one lock; <see cref="Worker"/> is one process and its pipes; <see cref="Request"/> is one
/// request and the task waiting for it; <see cref="Protocol"/> is the line format.</para>
/// </remarks>
public sealed class PrimePool : IDisposable, IAsyncDisposable
{
    /// <summary>How long <see cref="Dispose"/> lets workers leave on their own after their stdin is closed, before it
    /// kills them. A worker exits as soon as it reads the end of its input; one busy with a long check is killed.</summary>
    private static readonly TimeSpan s_gracePeriod = TimeSpan.FromSeconds(1);

    /// <summary>How long to wait for a process that should exit at once: killed, or with its stdout closed.</summary>
    private static readonly TimeSpan s_exitTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The lock protecting <see cref="_queue"/>, <see cref="_workers"/>, <see cref="_lastId"/>,
    /// <see cref="_disposed"/>, and each worker's <see cref="Worker.State"/> and <see cref="Worker.InFlight"/> and
    /// each request's <see cref="Request.Node"/> and <see cref="Request.Worker"/>. Private, so no outside code can
    /// hold it.
    /// </summary>
    /// <remarks>
    /// Nothing that can block for long happens under it: pipe writes and waits for processes happen outside. Only
    /// decisions do (which worker gets which request, when to start a worker), so that each decision sees one
    /// consistent state. Tasks are completed under it, which is safe because every
    /// <see cref="TaskCompletionSource{TResult}"/> here runs its continuations asynchronously: no caller's code
    /// ever runs inside the lock.
    /// </remarks>
    private readonly object _sync = new();

    /// <summary>Requests waiting for an idle worker, oldest first. Guarded by <see cref="_sync"/>.</summary>
    private readonly LinkedList<Request> _queue = new();

    /// <summary>The workers, in start order: running ones and dead ones not yet reaped. Never more than
    /// <see cref="MaxWorkers"/>, so there are never more live processes than that. Guarded by <see cref="_sync"/>.</summary>
    private readonly List<Worker> _workers = [];

    /// <summary>The id of the last request; ids start at 1 and only grow. Guarded by <see cref="_sync"/>.</summary>
    private long _lastId;

    /// <summary>Set once by <see cref="Dispose"/> or <see cref="DisposeAsync"/>. Guarded by <see cref="_sync"/>.</summary>
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
            lock (_sync)
            {
                return _workers.Where(w => w.State == WorkerState.Running).Select(w => w.ProcessId).ToArray();
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
        Task<string> reply = SendCoreAsync(Protocol.FormatCheck([n], 0, 1), cancellationToken);
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
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IReadOnlyList<bool>>(cancellationToken);
        }

        lock (_sync)
        {
            // Read under the lock, like every other use of _disposed: the flag and the queue it guards change together.
            ObjectDisposedException.ThrowIf(_disposed, this);
        }

        return MapCoreAsync(numbers, chunkSize, cancellationToken);
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
            throw new ArgumentException("A request is one line: it must not contain '\\n' or '\\r'.", nameof(request));
        }

        return SendCoreAsync(request, cancellationToken);
    }

    /// <summary>Ends every worker and fails every unanswered task with <see cref="ObjectDisposedException"/>. Later
    /// calls throw <see cref="ObjectDisposedException"/>; disposing again does nothing.</summary>
    /// <remarks>Closes each worker's stdin (a worker exits at the end of its input), gives them about a second to
    /// leave, kills the rest with their process trees, and waits until every worker process has exited. So it
    /// blocks for up to about a second, and leaves no process behind, even after a crash.</remarks>
    public void Dispose()
    {
        List<Worker>? workers = BeginDispose();
        if (workers is null)
        {
            return;
        }

        foreach (Worker worker in workers)
        {
            worker.CloseInput();
        }

        var clock = Stopwatch.StartNew();
        foreach (Worker worker in workers)
        {
            TimeSpan left = s_gracePeriod - clock.Elapsed;
            if (!worker.WaitForExit(left > TimeSpan.Zero ? left : TimeSpan.Zero))
            {
                worker.Kill();
                worker.WaitForExit(s_exitTimeout);
            }
        }

        foreach (Worker worker in workers)
        {
            // The worker's reader ends once its stdout closes, which the exit above guarantees. Waiting for it means
            // no callback of this pool runs after Dispose has returned, and the Process can be released safely.
            WaitQuietly(worker.Lifetime, s_exitTimeout);
            worker.Process.Dispose();
        }
    }

    /// <summary>Like <see cref="Dispose"/>, but waits for the workers to exit without blocking a thread.</summary>
    /// <returns>A task that completes when every worker process has exited.</returns>
    public async ValueTask DisposeAsync()
    {
        List<Worker>? workers = BeginDispose();
        if (workers is null)
        {
            return;
        }

        foreach (Worker worker in workers)
        {
            worker.CloseInput();
        }

        using var grace = new CancellationTokenSource(s_gracePeriod);
        foreach (Worker worker in workers)
        {
            if (!await worker.WaitForExitAsync(grace.Token).ConfigureAwait(false))
            {
                worker.Kill();
                using var killed = new CancellationTokenSource(s_exitTimeout);
                await worker.WaitForExitAsync(killed.Token).ConfigureAwait(false);
            }
        }

        foreach (Worker worker in workers)
        {
            try
            {
                await worker.Lifetime.WaitAsync(s_exitTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Abandoned: its process has exited, so its reader is about to end on its own.
            }

            worker.Process.Dispose();
        }
    }

    /// <summary>Queues one request and returns the task for its reply body.</summary>
    private Task<string> SendCoreAsync(string body, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<string>(cancellationToken);
        }

        Request request;
        var sends = new List<Request>();
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);

            // The id is assigned and the request queued in one step, so queue order is id order, and a worker
            // always receives requests in increasing id order. That is what lets the pool tell a late reply
            // (smaller id) from a bogus one (larger id).
            request = new Request(++_lastId, body);
            request.Node = _queue.AddLast(request);
            Dispatch(sends);
            AssertInvariants();
        }

        // Written before the cancellation callback is registered: a callback that runs at once (the token is being
        // cancelled right now) may hand this worker its next request, which must go out after this one.
        Write(sends);

        // Registered outside the lock: if the token is cancelled already, the callback runs right here, and it
        // takes the lock itself.
        if (cancellationToken.CanBeCanceled)
        {
            CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(
                static (state, token) =>
                {
                    var (pool, cancelled) = ((PrimePool, Request))state!;
                    pool.Cancel(cancelled, token);
                },
                (this, request));
            lock (_sync)
            {
                // Kept under the lock, where every completion reads it. A request answered (or cancelled) already
                // needs no callback any more.
                if (request.Completion.Task.IsCompleted)
                {
                    registration.Unregister();
                }
                else
                {
                    request.Registration = registration;
                }
            }
        }

        return request.Completion.Task;
    }

    private async Task<IReadOnlyList<bool>> MapCoreAsync(IReadOnlyList<long> numbers, int chunkSize, CancellationToken cancellationToken)
    {
        var results = new bool[numbers.Count];
        if (numbers.Count == 0)
        {
            return results;
        }

        // One failed chunk fails the whole map, so the others are cancelled rather than left to run for nothing.
        using var stopTheRest = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var chunks = new List<Task>();
        for (int start = 0; start < numbers.Count; start += chunkSize)
        {
            chunks.Add(CheckChunkAsync(start, Math.Min(chunkSize, numbers.Count - start)));
        }

        try
        {
            await Task.WhenAll(chunks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The chunks were cancelled through the linked source, and report its token: the caller gets its own,
            // as from every other method.
            throw new OperationCanceledException("The map was cancelled.", cancellationToken);
        }

        return results;

        async Task CheckChunkAsync(int start, int count)
        {
            string body = Protocol.FormatCheck(numbers, start, count);
            try
            {
                bool[] verdicts = Protocol.ParseVerdicts(await SendCoreAsync(body, stopTheRest.Token).ConfigureAwait(false), count);

                // Each chunk writes its own slice, at its own offset: the results come out in input order whatever
                // order the chunks finish in, and no two chunks ever write the same element.
                verdicts.CopyTo(results, start);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await stopTheRest.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>Hands queued requests to idle workers, starting workers while there are fewer than
    /// <see cref="MaxWorkers"/>. Collects the requests to write in <paramref name="sends"/>: the caller writes them
    /// after releasing the lock. Called after every change that could let a request go out.</summary>
    private void Dispatch(List<Request> sends)
    {
        Debug.Assert(Monitor.IsEntered(_sync), "Dispatch decides under the lock.");
        while (!_disposed && _queue.First is { } first)
        {
            Request request = first.Value;
            Worker? worker = _workers.Find(w => w.State == WorkerState.Running && w.InFlight is null);
            if (worker is null)
            {
                if (_workers.Count >= MaxWorkers)
                {
                    return; // every worker is busy: the request waits for the first one to become idle
                }

                try
                {
                    // Started under the lock: "count the workers, then start one" must be one step, or two
                    // requests arriving together could both see room for one more and start two. Process.Start
                    // takes a few milliseconds; a faster pool would reserve the slot here and start outside.
                    worker = StartWorker();
                }
                catch (Exception ex) when (ex is Win32Exception or IOException or InvalidOperationException)
                {
                    _queue.RemoveFirst();
                    request.Node = null;
                    request.Fail(new InvalidOperationException($"Could not start a worker process ({Worker.Describe()}): {ex.Message}", ex));
                    continue;
                }

                _workers.Add(worker);
            }

            _queue.RemoveFirst();
            request.Node = null;
            request.Worker = worker;
            worker.InFlight = request;
            sends.Add(request);
        }
    }

    /// <summary>Starts one worker process with its two readers: stderr (drained by the worker itself) and stdout
    /// (this pool's reply loop, which ends after the worker's death has been handled).</summary>
    private Worker StartWorker()
    {
        Debug.Assert(Monitor.IsEntered(_sync), "Workers start under the lock, so MaxWorkers is never exceeded.");
        Worker worker = Worker.Start();

        // Started before the worker is in _workers, where another thread could see it: Lifetime is set once, here.
        worker.Lifetime = Task.Run(() => ReadRepliesAsync(worker));
        return worker;
    }

    /// <summary>Writes each request to its worker's stdin, outside the lock: a pipe write can wait for the worker
    /// to read (a request bigger than the pipe buffer does).</summary>
    private static void Write(List<Request> sends)
    {
        foreach (Request request in sends)
        {
            _ = request.Worker!.WriteAsync(request.Line);
        }
    }

    /// <summary>One worker's stdout reader: matches each reply to its request, and notices when the worker dies.</summary>
    private async Task ReadRepliesAsync(Worker worker)
    {
        try
        {
            while (await worker.ReadReplyAsync().ConfigureAwait(false) is { } line)
            {
                OnReply(worker, line);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The pipe broke: the same as its end.
        }

        await OnStandardOutputClosedAsync(worker).ConfigureAwait(false);
    }

    /// <summary>Completes the request that <paramref name="line"/> answers, and gives the worker its next request.</summary>
    private void OnReply(Worker worker, string line)
    {
        (string idText, string body) = Protocol.SplitReply(line);
        var sends = new List<Request>();
        lock (_sync)
        {
            if (worker.InFlight is not { } request)
            {
                return; // the late reply of a request that was cancelled (or failed by Dispose) while in flight
            }

            // Match by id, never by order. A request cancelled while in flight frees its worker at once, so the
            // worker may already hold the next request when it answers the cancelled one: that late reply carries
            // the old, smaller id and must not complete the new request. ("? error ..." means the worker could not
            // read the id; the request in flight is the only one it has.)
            long id = request.Id;
            if (idText != "?" && !Protocol.TryParseId(idText, out id))
            {
                id = long.MaxValue; // unreadable: it answers no request
            }

            if (id < request.Id)
            {
                return; // a late reply: its request was cancelled and has already completed
            }

            if (id > request.Id)
            {
                // Ids only grow, and this worker has been sent none above the one in flight.
                request.Fail(new WorkerErrorException($"Worker process {worker.ProcessId} sent a reply that answers no request: '{Protocol.Shorten(line)}'."));
            }
            else if (Protocol.IsSuccess(body))
            {
                request.Succeed(body);
            }
            else if (Protocol.TryGetError(body, out string message))
            {
                // Only this task fails: an error reply is the worker saying "bad request", not "I am broken".
                request.Fail(new WorkerErrorException(message));
            }
            else
            {
                request.Fail(new WorkerErrorException($"Worker process {worker.ProcessId} sent a malformed reply: '{Protocol.Shorten(line)}'."));
            }

            FinishInFlight(worker, request, sends);
        }

        Write(sends);
    }

    /// <summary>Frees <paramref name="worker"/> from <paramref name="request"/> (already completed) and dispatches.</summary>
    private void FinishInFlight(Worker worker, Request request, List<Request> sends)
    {
        Debug.Assert(Monitor.IsEntered(_sync), "In-flight bookkeeping happens under the lock.");
        worker.InFlight = null;
        request.Worker = null;
        Dispatch(sends);
        AssertInvariants();
    }

    /// <summary>The worker's stdout has ended: it exited or is about to. Fails its request in flight with the exit
    /// code, removes it, and starts a replacement if requests are waiting.</summary>
    private async Task OnStandardOutputClosedAsync(Worker worker)
    {
        lock (_sync)
        {
            if (worker.State == WorkerState.Retired)
            {
                return; // Dispose ended it on purpose and takes care of the rest
            }

            // No new request goes to it. It still counts towards MaxWorkers until its process is gone.
            worker.State = WorkerState.Dead;
        }

        int exitCode;
        string standardError;
        try
        {
            using (var exited = new CancellationTokenSource(s_exitTimeout))
            {
                if (!await worker.WaitForExitAsync(exited.Token).ConfigureAwait(false))
                {
                    worker.Kill(); // it closed its stdout but lives on: of no use to anyone
                    using var killed = new CancellationTokenSource(s_exitTimeout);
                    await worker.WaitForExitAsync(killed.Token).ConfigureAwait(false);
                }
            }

            // The rest of its stderr usually says why it died (an unhandled exception's stack trace).
            await WaitQuietlyAsync(worker.StderrDrained, s_exitTimeout).ConfigureAwait(false);
            exitCode = worker.Process.ExitCode;
            standardError = worker.StandardErrorTail;
        }
        catch (InvalidOperationException)
        {
            return; // Dispose gave up waiting for this reader and released the process
        }

        bool ownsProcess;
        var sends = new List<Request>();
        lock (_sync)
        {
            // Once the pool is disposed, Dispose owns every worker it found, this one included.
            ownsProcess = !_disposed;
            _workers.Remove(worker);
            if (worker.InFlight is { } lost)
            {
                lost.Fail(new WorkerCrashedException(worker.ProcessId, exitCode, standardError));
                worker.InFlight = null;
                lost.Worker = null;
            }

            // The replacement: at once if requests are waiting (else they would wait forever), otherwise on the
            // next request.
            Dispatch(sends);
            AssertInvariants();
        }

        Write(sends);
        if (ownsProcess)
        {
            worker.Process.Dispose();
        }
    }

    /// <summary>Cancels <paramref name="request"/>: takes it out of the queue, or frees the worker it is on.</summary>
    private void Cancel(Request request, CancellationToken token)
    {
        var sends = new List<Request>();
        lock (_sync)
        {
            if (request.Node is not null)
            {
                // Still waiting: it is never sent.
                _queue.Remove(request.Node);
                request.Node = null;
            }
            else if (request.Worker is { } worker && worker.InFlight == request)
            {
                // Already sent. The worker is not interrupted (it cannot be, short of killing it): it finishes and
                // answers, and OnReply drops that late reply by its id. Meanwhile the worker is free for the next
                // request, which waits in its stdin pipe until the worker gets to it.
                request.Worker = null;
                worker.InFlight = null;
                Dispatch(sends);
            }
            else
            {
                return; // completed already
            }

            request.Completion.TrySetCanceled(token);
            AssertInvariants();
        }

        Write(sends);
    }

    /// <summary>Marks the pool disposed, fails every unanswered request, and returns the workers to end; or
    /// <see langword="null"/> if the pool was disposed already.</summary>
    private List<Worker>? BeginDispose()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return null;
            }

            _disposed = true;
            foreach (Request request in _queue)
            {
                request.Node = null;
                request.Fail(new ObjectDisposedException(nameof(PrimePool), "The pool was disposed before this request was sent to a worker."));
            }

            _queue.Clear();
            foreach (Worker worker in _workers)
            {
                if (worker.InFlight is { } request)
                {
                    request.Worker = null;
                    worker.InFlight = null;
                    request.Fail(new ObjectDisposedException(nameof(PrimePool), "The pool was disposed before the worker answered this request."));
                }

                if (worker.State == WorkerState.Running)
                {
                    worker.State = WorkerState.Retired;
                }
            }

            var workers = _workers.ToList();
            _workers.Clear();
            AssertInvariants();
            return workers;
        }
    }

    private static void WaitQuietly(Task task, TimeSpan timeout)
    {
        try
        {
            task.Wait(timeout);
        }
        catch (AggregateException)
        {
            // Readers catch their own exceptions; nothing else can be done about one here.
        }
    }

    private static async Task WaitQuietlyAsync(Task task, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Good enough: the crash report goes out with the stderr read so far.
        }
    }

    /// <summary>Checks, in debug builds, what must hold whenever <see cref="_sync"/> is released.</summary>
    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Monitor.IsEntered(_sync), "Invariants are only meaningful under the lock.");
        Debug.Assert(_workers.Count <= MaxWorkers, "A pool has never more worker processes than maxWorkers.");
        Debug.Assert(_workers.TrueForAll(w => w.InFlight is null || w.InFlight.Worker == w), "A request in flight knows its worker.");
        Debug.Assert(_workers.TrueForAll(w => w.State != WorkerState.Retired), "Retired workers have left the list.");
        Debug.Assert(
            _disposed || _queue.Count == 0 ||
            (_workers.Count == MaxWorkers && !_workers.Exists(w => w.State == WorkerState.Running && w.InFlight is null)),
            "A request waits only while every worker is busy and no more can start.");
        Debug.Assert(!_disposed || (_queue.Count == 0 && _workers.Count == 0), "A disposed pool holds no request and no worker.");
    }
}
