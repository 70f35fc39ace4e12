namespace ConcurrencyKata;

/// <summary>
/// The worker's side of the protocol: reads requests line by line and answers each one with the request's id.
/// <c>Program.cs</c> runs it over the process's stdin, stdout and stderr; tests run it over strings.
/// </summary>
/// <remarks>
/// <para>The protocol (text lines, UTF-8, each ending in <c>'\n'</c>; the full description is in
/// exercises/02-prime-pool/README.md):</para>
/// <list type="bullet">
/// <item><c>&lt;id&gt; check &lt;n1&gt;,&lt;n2&gt;,...</c> → <c>&lt;id&gt; ok &lt;c1&gt;&lt;c2&gt;...</c>: one character per
/// number, <c>1</c> if it is prime, <c>0</c> if not.</item>
/// <item>A malformed line → <c>&lt;id&gt; error &lt;message&gt;</c>, or <c>? error &lt;message&gt;</c> when the id itself is
/// unreadable. The worker goes on with the next line.</item>
/// <item>Test hooks: <c>&lt;id&gt; exit &lt;code&gt;</c> stops at once with that exit code and no reply;
/// <c>&lt;id&gt; hold</c> answers nothing more and only waits for the end of input; <c>&lt;id&gt; wait</c> answers
/// <c>&lt;id&gt; ok</c> only once the next line has arrived, then handles that line; <c>&lt;id&gt; noise &lt;bytes&gt;</c>
/// writes that many bytes to stderr, then answers <c>&lt;id&gt; ok</c>.</item>
/// <item>End of input → exit code 0.</item>
/// </list>
/// <para>Every reply is flushed as soon as it is written: the pool is waiting for it, and a reply that sits in a
/// buffer is a reply that never arrives.</para>
/// </remarks>
public static class WorkerLoop
{
    // TODO (Step 2): private helpers as you like: parse a line into id, verb and argument; answer a check; write a
    // reply and flush it. Keep Run a simple loop over input.ReadLine() until it returns null.

    /// <summary>Answers the requests read from <paramref name="input"/> until it ends or an <c>exit</c> request
    /// arrives.</summary>
    /// <param name="input">The requests, one per line (the worker's stdin).</param>
    /// <param name="output">Where the replies go, one per line, each flushed at once (the worker's stdout).</param>
    /// <param name="error">Diagnostics and the <c>noise</c> hook's bytes (the worker's stderr).</param>
    /// <returns>The process exit code: 0 at the end of input, or the code of an <c>exit</c> request.</returns>
    /// <remarks>Blocks on <paramref name="input"/> while no line is available. Never throws for a bad request:
    /// a malformed line gets an error reply.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static int Run(TextReader input, TextWriter output, TextWriter error)
    {
        // TODO (Step 2): while (input.ReadLine() is { } line) { ... }, then return 0 (end of input).
        // TODO (Step 2): "<id> check a,b,c" -> "<id> ok 101"; anything malformed -> "<id> error <message>" ("?" for a bad id).
        // TODO (Step 2): flush output after every reply, and write '\n' (not WriteLine, whose ending is "\r\n" on Windows).
        // TODO (Step 2): the test hooks: exit <code>, hold, wait, noise <bytes>.
        throw new NotImplementedException("Step 2 (exercise 02): implement WorkerLoop.Run. See Step 2 in exercises/02-prime-pool/README.md.");
    }
}
