namespace ConcurrencyKata;

/// <summary>Where a worker's life is at, as far as <see cref="PrimePool"/> is concerned.</summary>
internal enum WorkerState
{
    /// <summary>Started and serving requests.</summary>
    Running,

    /// <summary>Its stdout has ended: it died, or is dying. It gets no more requests.</summary>
    Dead,

    /// <summary>Taken out of service by Dispose, which ends it.</summary>
    Retired,
}
