using System.Diagnostics;

namespace ConcurrencyKata.Tests.DistributedMapTests;

/// <summary>
/// The tests' instruments inside the cluster. The silos of the in-process test cluster share this process, so one
/// static spy sees every chunk call on every silo (through <see cref="ChunkSpyFilter"/>, an Orleans incoming grain
/// call filter), and counts the calls the client has in flight (through <see cref="ClientCallCounter"/>, an outgoing
/// filter). A test sets <see cref="Rule"/> to hold chunks in flight (a gate: docs/testing.md, rule 12) or fail them,
/// and waits for what the silos saw with <see cref="WaitUntil"/>, a handshake, never a sleep (rule 1).
/// </summary>
/// <remarks>Each test starts a new generation (<see cref="Reset"/>): a call of an earlier test's code that is still
/// on its way is let through and not counted, so each test sees only its own calls. The tear-down releases every
/// held call.</remarks>
public static class ChunkSpy
{
    /// <summary>The lock protecting every field below; the monitor <see cref="WaitUntil"/> waits on.</summary>
    private static readonly object s_sync = new();

    /// <summary>The current test's calls, in the order they reached a silo. Guarded by <see cref="s_sync"/>.</summary>
    private static readonly List<ChunkCall> s_calls = [];

    /// <summary>The current generation. Guarded by <see cref="s_sync"/>.</summary>
    private static int s_generation;

    /// <summary>Once true, nothing is held any more (tear-down). Guarded by <see cref="s_sync"/>.</summary>
    private static bool s_releasedAll;

    /// <summary>What the silos do with each call. Guarded by <see cref="s_sync"/>.</summary>
    private static Func<ChunkCall, ChunkAction> s_rule = _ => ChunkAction.Pass;

    /// <summary>The client's chunk calls sent and not yet ended, the most at once, and all sent, this test.
    /// Guarded by <see cref="s_sync"/>.</summary>
    private static int s_inFlight;
    private static int s_maxInFlight;
    private static int s_sent;

    /// <summary>The exception a <see cref="ChunkAction.Fail"/> throws on the silo: not a lost silo, a failure of the chunk itself.</summary>
    public const string InjectedMessage = "injected failure: this chunk cannot be checked";

    /// <summary>What the silos do with each chunk call of this test (default: let it through).</summary>
    public static Func<ChunkCall, ChunkAction> Rule
    {
        set
        {
            lock (s_sync)
            {
                s_rule = value;
            }
        }
    }

    /// <summary>Chunk calls the client has sent and that have not ended yet.</summary>
    public static int InFlight
    {
        get
        {
            lock (s_sync)
            {
                return s_inFlight;
            }
        }
    }

    /// <summary>The most chunk calls the client had in flight at once.</summary>
    public static int MaxInFlight
    {
        get
        {
            lock (s_sync)
            {
                return s_maxInFlight;
            }
        }
    }

    /// <summary>Chunk calls the client has sent.</summary>
    public static int Sent
    {
        get
        {
            lock (s_sync)
            {
                return s_sent;
            }
        }
    }

    /// <summary>A new exception for <see cref="ChunkAction.Fail"/>.</summary>
    public static InvalidOperationException InjectedFailure() => new(InjectedMessage);

    /// <summary>Starts a new test: forgets every call, lets earlier calls through, sets the rule back to Pass.</summary>
    public static void Reset()
    {
        lock (s_sync)
        {
            ReleaseHeldLocked();
            s_generation++;
            s_calls.Clear();
            s_releasedAll = false;
            s_rule = _ => ChunkAction.Pass;
            s_inFlight = 0;
            s_maxInFlight = 0;
            s_sent = 0;
            Monitor.PulseAll(s_sync);
        }
    }

    /// <summary>Releases every held call, and holds nothing from now on (tear-down).</summary>
    public static void ReleaseAll()
    {
        lock (s_sync)
        {
            s_releasedAll = true;
            ReleaseHeldLocked();
            Monitor.PulseAll(s_sync);
        }
    }

    /// <summary>A snapshot of this test's calls, in arrival order.</summary>
    public static IReadOnlyList<ChunkCall> Calls()
    {
        lock (s_sync)
        {
            return s_calls.ToList();
        }
    }

    /// <summary>This test's calls held right now.</summary>
    public static IReadOnlyList<ChunkCall> Held()
    {
        lock (s_sync)
        {
            return s_calls.Where(c => c.IsHeld).ToList();
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds for this test's calls (checked at every change), or
    /// fails with <paramref name="diagnosis"/> and what the silos saw.</summary>
    public static void WaitUntil(Func<IReadOnlyList<ChunkCall>, bool> condition, string diagnosis, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        TimeSpan limit = deadline ?? Deadlines.Hang;
        var clock = Stopwatch.StartNew();
        lock (s_sync)
        {
            while (!condition(s_calls))
            {
                TimeSpan left = limit - clock.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    Assert.Fail($"Still waiting after {Deadlines.Describe(limit)}: {diagnosis} The silos saw {DescribeLocked()}.");
                }

                Monitor.Wait(s_sync, left);
            }
        }
    }

    /// <summary>Describes this test's calls for a failure message.</summary>
    public static string Describe()
    {
        lock (s_sync)
        {
            return DescribeLocked();
        }
    }

    /// <summary>Called by <see cref="ChunkSpyFilter"/> when a chunk call reaches a silo: records it and decides.</summary>
    internal static (ChunkCall? Call, ChunkAction Action) Arrived(SiloAddress silo, long[] numbers)
    {
        lock (s_sync)
        {
            int attempt = 1 + s_calls.Count(c => c.Numbers.Length > 0 && numbers.Length > 0 && c.First == numbers[0]);
            var call = new ChunkCall(s_generation, silo, numbers, attempt);
            s_calls.Add(call);
            ChunkAction action = s_rule(call);
            if (action == ChunkAction.Hold && s_releasedAll)
            {
                action = ChunkAction.Pass;
            }

            call.IsHeld = action == ChunkAction.Hold;
            Monitor.PulseAll(s_sync);
            return (call, action);
        }
    }

    /// <summary>Called by <see cref="ChunkSpyFilter"/> when a held call goes on (released, or cancelled).</summary>
    internal static void Unheld(ChunkCall call)
    {
        lock (s_sync)
        {
            call.IsHeld = false;
            Monitor.PulseAll(s_sync);
        }
    }

    /// <summary>Called by <see cref="ChunkSpyFilter"/> when a call has ended on its silo.</summary>
    internal static void Ended(ChunkCall call, ChunkCallState state)
    {
        lock (s_sync)
        {
            call.IsHeld = false;
            call.State = state;
            Monitor.PulseAll(s_sync);
        }
    }

    /// <summary>Called by <see cref="ClientCallCounter"/> when the client sends a chunk call; returns its generation.</summary>
    internal static int ClientSent()
    {
        lock (s_sync)
        {
            s_sent++;
            s_inFlight++;
            s_maxInFlight = Math.Max(s_maxInFlight, s_inFlight);
            Monitor.PulseAll(s_sync);
            return s_generation;
        }
    }

    /// <summary>Called by <see cref="ClientCallCounter"/> when a chunk call of generation <paramref name="generation"/> has ended for the client.</summary>
    internal static void ClientEnded(int generation)
    {
        lock (s_sync)
        {
            if (generation == s_generation)
            {
                s_inFlight--;
                Monitor.PulseAll(s_sync);
            }
        }
    }

    /// <summary>Waits until the client has <paramref name="count"/> chunk calls in flight, or fails with <paramref name="diagnosis"/>.</summary>
    public static void WaitForInFlight(int count, string diagnosis)
    {
        var clock = Stopwatch.StartNew();
        lock (s_sync)
        {
            while (s_inFlight < count)
            {
                TimeSpan left = Deadlines.Hang - clock.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    Assert.Fail($"Still waiting after {Deadlines.Describe(Deadlines.Hang)}: the client has {s_inFlight} chunk call(s) in flight, " +
                                $"not {count}. {diagnosis} The silos saw {DescribeLocked()}.");
                }

                Monitor.Wait(s_sync, left);
            }
        }
    }

    /// <summary>Waits until the client has no chunk call in flight any more, or fails with <paramref name="diagnosis"/>.</summary>
    public static void WaitForNoneInFlight(string diagnosis)
    {
        var clock = Stopwatch.StartNew();
        lock (s_sync)
        {
            while (s_inFlight > 0)
            {
                TimeSpan left = Deadlines.Hang - clock.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    Assert.Fail($"Still waiting after {Deadlines.Describe(Deadlines.Hang)}: the client still has {s_inFlight} chunk call(s) in flight. " +
                                $"{diagnosis} The silos saw {DescribeLocked()}.");
                }

                Monitor.Wait(s_sync, left);
            }
        }
    }

    private static void ReleaseHeldLocked()
    {
        foreach (ChunkCall call in s_calls)
        {
            call.Release();
        }
    }

    private static string DescribeLocked() =>
        s_calls.Count == 0
            ? "no chunk call at all"
            : $"{s_calls.Count} chunk call(s): " + string.Join("; ", s_calls.Take(12).Select(c => c.ToString())) + (s_calls.Count > 12 ? "; ..." : "");
}
