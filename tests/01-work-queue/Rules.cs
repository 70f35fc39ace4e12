namespace ConcurrencyKata.Tests.WorkQueue;

/// <summary>
/// The rules of exercise 01 as the failure messages state them. Several steps and tests can catch the same mistake
/// first (which one depends on the mistake), so the words of each rule live here once, and every test that can be the
/// first to catch it says it the same way.
/// </summary>
internal static class Rules
{
    /// <summary>Step 2: one lock, always the same one, around every access.</summary>
    public const string OneLock =
        "Is every read and write of the queue's state inside lock (_sync), on one private lock object for the whole queue " +
        "(created once in a readonly field: never `lock (new object())`, never a second lock for one side), so that the check " +
        "(is there an item? is there room?) and the act (Dequeue/Enqueue) happen under one hold of the lock?";

    /// <summary>Step 3: a woken waiter checks its condition again.</summary>
    public const string WhileNotIf =
        "A woken thread is only told that something changed, not that its condition holds: another thread may have got there " +
        "first, or the wake-up was for someone else. Is Monitor.Wait inside a `while` loop that re-checks the condition, not an `if`?";

    /// <summary>Step 3: a cancelled call throws, with the caller's token.</summary>
    public const string CancellationIsNotATimeout =
        "A cancellation is reported by throwing OperationCanceledException, never by returning false (that means \"timed out\") " +
        "nor as \"the queue is complete\".";

    /// <summary>Step 3: the exception names whose cancellation it was.</summary>
    public const string CarriesTheToken =
        "The OperationCanceledException must carry the caller's token (token.ThrowIfCancellationRequested() does), so that the " +
        "caller can tell its own cancellation from anyone else's.";

    /// <summary>Step 3: a cancelled call changes nothing.</summary>
    public const string NoTrace =
        "A call that throws OperationCanceledException leaves the queue exactly as it was: check the token before changing " +
        "anything (before the Dequeue or Enqueue), never after.";

    /// <summary>Step 3: each wait gets what is left of the timeout.</summary>
    public const string RemainingTime =
        "A timed call that is woken and has to wait again (the wake-up was for another thread) must wait only for what is LEFT " +
        "of its timeout: compute the deadline once, before the loop, and pass Monitor.Wait(_sync, deadline - now) each time, " +
        "not the whole timeout again (and not Monitor.Wait's bool, which only says whether that one wait timed out).";

    /// <summary>Step 3: TimeSpan to milliseconds.</summary>
    public const string ValidateThenRoundUp =
        "Check the TimeSpan itself first (Timeout.InfiniteTimeSpan waits forever; any other negative value, even -1.5 ms or " +
        "-1 tick, throws ArgumentOutOfRangeException), then round UP to whole milliseconds: (int)Math.Ceiling(timeout." +
        "TotalMilliseconds). Rounding down turns 0.5 ms into 0 (\"don't wait\") and -1.5 ms into -1 (\"wait forever\").";

    /// <summary>Step 3: registration and lock.</summary>
    public const string RegisterOutsideTheLock =
        "Register the callback before taking the lock and dispose the registration after leaving it: disposing waits for a " +
        "callback that is running, and that callback is waiting for the lock you hold.";

    /// <summary>Step 3: registrations do not outlive the call.</summary>
    public const string DisposeTheRegistration =
        "Every call disposes its CancellationTokenRegistration when it returns (`using CancellationTokenRegistration r = " +
        "token.Register(...)`): otherwise each call leaves a callback, and the whole queue with it, on the caller's token.";

    /// <summary>Step 2 to 4: the "harmless" reads and writes go through the lock too.</summary>
    public const string HarmlessReads =
        "Every read and write of the shared state, the \"harmless\" ones included (a counter updated after the lock \"to keep " +
        "it short\", Count, IsCompleted, UnfinishedTasks), goes through the same lock as the rest: a counter's ++ reads, adds " +
        "and writes back, so two threads doing it at once lose one update, and two reads outside the lock are not one fact.";

    /// <summary>Step 4: the enumeration lets go of the lock between items.</summary>
    public const string NoYieldInsideTheLock =
        "GetConsumingEnumerable must not hold the lock while the caller processes an item: never `yield return` inside " +
        "lock (_sync). Take the item under the lock, leave the lock, then yield it (an iterator over TryTake does exactly that).";

    /// <summary>Step 4: a taker re-checks completion after waking.</summary>
    public const string CompletionIsPartOfTheCondition =
        "A taker waits while the queue is empty AND not complete, and re-checks both after every wake-up: checking completion " +
        "only once, before waiting, misses the Complete() that comes while it sleeps.";
}
