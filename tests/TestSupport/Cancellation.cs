namespace ConcurrencyKata.TestSupport;

/// <summary>Cancels a token the way learner code experiences it, without letting the learner's callback hang or
/// crash the test.</summary>
public static class Cancellation
{
    /// <summary>
    /// Calls <see cref="CancellationTokenSource.Cancel()"/> on a dedicated thread with a deadline. Cancel runs every
    /// registered callback synchronously, so a learner's callback that blocks (waiting for a lock that a waiter holds
    /// while disposing its registration) or throws (pulsing without the lock) is reported by name.
    /// </summary>
    public static void CancelOnOwnThread(CancellationTokenSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        LearnerThread.Start("canceller", source.Cancel).ShouldFinish(
            "CancellationTokenSource.Cancel() never returned: it runs your registered callback, which is blocked. Register " +
            "the callback before taking the lock and dispose the registration after leaving it; the callback itself takes " +
            "the lock only to pulse.",
            diagnosisIfThrew:
            "CancellationTokenSource.Cancel() ran your registered callback, and it threw. Monitor.PulseAll needs the lock: " +
            "lock (_sync) { Monitor.PulseAll(_sync); }.");
    }
}
