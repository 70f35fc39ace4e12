namespace ConcurrencyKata;

/// <summary>Where a worker's life is at, as far as <see cref="PrimePool"/> is concerned.</summary>
internal enum WorkerState
{
    /// <summary>Started and serving requests.</summary>
    Running,

    // TODO (Step 4): a state for a worker whose stdout has ended (dead or dying: it gets no more requests), and one
    // for a worker that Dispose has taken out of service.
}
