namespace ConcurrencyKata;

/// <summary>
/// Dijkstra's dining philosophers. <see cref="Seats"/> philosophers sit at a round table with one fork between each
/// two neighbours. To eat, a philosopher needs both forks next to it: philosopher <c>i</c> uses fork <c>i</c> (its
/// left) and fork <c>(i + 1) % Seats</c> (its right). Each fork is a <see cref="KataLock"/> named <c>"fork i"</c>.
/// </summary>
/// <remarks>
/// <para>If every philosopher picks up its left fork and then waits for its right one, each holds a fork its
/// neighbour waits for, all the way round the table: a cycle in the wait-for graph, and nobody ever eats again.
/// Picking up the lower-numbered fork first, one global order again, breaks the cycle: the last philosopher reaches
/// for fork 0 first, like its neighbour, so at least one philosopher can always get both forks.</para>
/// <para>The constructor, <see cref="Seats"/> and <see cref="Fork"/> are provided by the kata; <see cref="Eat"/> and
/// <see cref="Dine"/> are yours.</para>
/// </remarks>
public sealed class DiningTable
{
    /// <summary>The forks, by number; fork <c>i</c> lies between philosophers <c>i - 1</c> and <c>i</c>. Each is the
    /// lock protecting itself: a philosopher holding it is using that fork. The array never changes.</summary>
    private readonly KataLock[] _forks;

    /// <summary>Lays a table for <paramref name="seats"/> philosophers, with as many forks.</summary>
    /// <param name="seats">How many philosophers, and forks; at least 2.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seats"/> is less than 2.</exception>
    public DiningTable(int seats)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seats, 2);
        _forks = new KataLock[seats];
        for (int i = 0; i < seats; i++)
        {
            _forks[i] = new KataLock($"fork {i}");
        }
    }

    /// <summary>How many philosophers (and forks) the table has.</summary>
    public int Seats => _forks.Length;

    /// <summary>Fork number <paramref name="index"/>: philosopher <paramref name="index"/>'s left fork, and
    /// philosopher <c>index - 1</c>'s right fork.</summary>
    /// <param name="index">From 0 to <see cref="Seats"/> - 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside the table.</exception>
    public KataLock Fork(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Seats);
        return _forks[index];
    }

    /// <summary>Philosopher <paramref name="philosopher"/> picks up both its forks, eats <paramref name="meal"/>,
    /// and puts both forks down, waiting as long as it takes for a fork a neighbour is using.</summary>
    /// <param name="philosopher">From 0 to <see cref="Seats"/> - 1.</param>
    /// <param name="meal">Runs while the philosopher holds both forks, so no neighbour eats at the same time.</param>
    /// <remarks>Never deadlocks, however many philosophers reach for their forks at once. Both forks are put down
    /// even when <paramref name="meal"/> throws; the exception then propagates.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="philosopher"/> is outside the table.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="meal"/> is null.</exception>
    public void Eat(int philosopher, Action meal)
    {
        // TODO (Step 2): validate; pick up both forks (Fork(philosopher) and Fork((philosopher + 1) % Seats)) in one
        // global order, so the cycle round the table cannot close; run the meal; put both forks down in finally blocks
        // (one try/finally per fork, each right after its own Enter).
        throw new NotImplementedException("Step 2 (exercise 04): implement Eat. See Step 2 in exercises/04-deadlock-free-locking/README.md.");
    }

    /// <summary>Runs a dinner: every philosopher, on its own thread, eats <paramref name="mealsEach"/> meals through
    /// <see cref="Eat"/>, all at the same time; returns when all of them have finished.</summary>
    /// <param name="mealsEach">How many meals each philosopher eats; not negative.</param>
    /// <param name="onEat">Called with the philosopher's number during each meal, while it holds both forks.</param>
    /// <returns>How many meals each philosopher ate, by philosopher number: <paramref name="mealsEach"/> for every one
    /// of them. Nobody starves: every philosopher eats every meal before the dinner ends.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mealsEach"/> is negative.</exception>
    /// <exception cref="AggregateException"><paramref name="onEat"/> threw: the dinner still ends, and the inner
    /// exceptions are what it threw.</exception>
    public int[] Dine(int mealsEach, Action<int>? onEat = null)
    {
        // TODO (Step 2): validate; start one background thread per philosopher, each eating mealsEach meals through Eat
        // and counting them; once all have started, join them all; catch what onEat throws inside each thread and
        // report it in an AggregateException at the end; return the counts.
        throw new NotImplementedException("Step 2 (exercise 04): implement Dine. See Step 2 in exercises/04-deadlock-free-locking/README.md.");
    }
}
