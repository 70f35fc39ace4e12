namespace ConcurrencyKata.Tests.Locking;

/// <summary>
/// Writes every <see cref="KataLock"/> operation of a systematic (Coyote) scenario into its <see cref="ScheduleLog"/>:
/// "reaches for A", "takes A", "gives up on A", "releases A", and keeps each thread's "holds A, waits for B" up to date
/// so that a deadlock at the end of a schedule reads as one.
/// </summary>
/// <remarks>
/// Installed with <see cref="KataLock.Observe"/> inside the scenario, before it starts its threads: the observer
/// flows into them. No lock here: Coyote runs one controlled thread at a time (see <see cref="ScheduleLog"/>).
/// </remarks>
internal sealed class ScheduleLocks(ScheduleLog log) : IKataLockObserver
{
    private readonly Dictionary<string, List<string>> _held = new(StringComparer.Ordinal);

    /// <summary>The threads that reached for a lock and have neither taken it nor given up yet.</summary>
    private readonly HashSet<string> _waiting = new(StringComparer.Ordinal);

    /// <summary>Starts recording the locks of the threads that the scenario starts from now on.</summary>
    public static IDisposable Record(ScheduleLog log) => KataLock.Observe(new ScheduleLocks(log));

    /// <inheritdoc />
    public void Acquiring(KataLock kataLock, TimeSpan timeout) => Systematic.Quietly(() =>
    {
        EndIfUnwinding();
        _waiting.Add(ScheduleLog.CurrentThread);
        log.Record(timeout == Timeout.InfiniteTimeSpan ? "reaches for" : "tries (with a timeout)", kataLock.Name);
        log.SetState(Describe(Held(), "waits for " + kataLock.Name));
    });

    /// <inheritdoc />
    public void Acquired(KataLock kataLock) => Systematic.Quietly(() =>
    {
        _waiting.Remove(ScheduleLog.CurrentThread);
        List<string> held = Held();
        held.Add(kataLock.Name);
        log.Record("takes", kataLock.Name);
        log.SetState(Describe(held, null));
    });

    /// <inheritdoc />
    public void GaveUp(KataLock kataLock) => Systematic.Quietly(() =>
    {
        _waiting.Remove(ScheduleLog.CurrentThread);
        log.Record("gives up on", kataLock.Name);
        log.SetState(Describe(Held(), null));
    });

    /// <inheritdoc />
    public void Releasing(KataLock kataLock) => Systematic.Quietly(() =>
    {
        EndIfUnwinding();
        List<string> held = Held();
        held.Remove(kataLock.Name);
        log.Record("releases", kataLock.Name);
        log.SetState(Describe(held, null));
    });

    /// <summary>A thread blocked on a lock does nothing else until it gets it, except when Coyote has ended the
    /// schedule (a deadlock) and unwinds it through its finally blocks: from then on, nothing is real.</summary>
    private void EndIfUnwinding()
    {
        if (_waiting.Contains(ScheduleLog.CurrentThread))
        {
            log.Freeze();
        }
    }

    private List<string> Held()
    {
        string thread = ScheduleLog.CurrentThread;
        if (!_held.TryGetValue(thread, out List<string>? held))
        {
            held = [];
            _held[thread] = held;
        }

        return held;
    }

    private static string Describe(List<string> held, string? waiting)
    {
        string holds = held.Count == 0 ? "holds no lock" : "holds " + string.Join(" and ", held);
        return waiting is null ? holds : $"{holds}, {waiting}";
    }
}
