using System.Runtime.CompilerServices;

namespace ConcurrencyKata.Tests.WorkQueue;

/// <summary>
/// A 64 KB work item whose every element holds the same id. Copying one into or out of the queue's storage takes
/// microseconds instead of nanoseconds, and a copy made while another thread changes the same storage comes out torn
/// (elements of two different ids) or duplicated.
/// </summary>
/// <remarks>
/// <para>Why: a data race inside <see cref="Queue{T}"/> (two threads in Enqueue/Dequeue at once) has a window of a
/// few instructions around each copy. With 8-byte items a thread is almost never preempted, nor overlapped by a
/// thread on the other core, inside that window, so an unsynchronised queue can pass a stress test. With 64 KB items
/// the copy IS the operation: a thread spends nearly all its time inside the window, so any overlap on two cores,
/// and almost any preemption on one, lands inside it. No hook is needed, and none exists: the race happens inside
/// the framework's collection, out of reach of any test hook and of the systematic engine (Coyote sees a collection
/// call as one indivisible step).</para>
/// <para>An InlineArray, not a class: the bytes themselves must be copied, not a reference to them.</para>
/// </remarks>
[InlineArray(Length)]
internal struct Slab
{
    /// <summary>8 000 longs: 64 000 bytes, just under the largest element an array may have (65 535 bytes). Larger
    /// would also start to risk the learner's stack (several copies live in nested frames).</summary>
    public const int Length = 8000;

    private long _element0;

    /// <summary>A slab whose every element is <paramref name="id"/>.</summary>
    public static Slab Of(long id)
    {
        var slab = default(Slab);
        ((Span<long>)slab).Fill(id);
        return slab;
    }

    /// <summary>The id, read from the first element.</summary>
    public readonly long Id => ((ReadOnlySpan<long>)this)[0];

    /// <summary>Whether the first and last elements, and three between them, hold the same id: false for a copy torn
    /// between two items. (Five samples instead of all 8 000: a check outside the queue is time in which the thread
    /// is not inside the queue's storage, where the race happens.)</summary>
    public readonly bool IsWhole
    {
        get
        {
            ReadOnlySpan<long> elements = this;
            long id = elements[0];
            return elements[Length / 4] == id && elements[Length / 2] == id && elements[3 * Length / 4] == id && elements[Length - 1] == id;
        }
    }
}
