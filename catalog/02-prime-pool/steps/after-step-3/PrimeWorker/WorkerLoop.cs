using System.Globalization;
using System.Text;

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
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        string? line = input.ReadLine();
        while (line is not null)
        {
            // "<id> <verb> <argument>"
            string[] parts = line.Split(' ', 3);
            string id = parts[0];
            string verb = parts.Length > 1 ? parts[1] : "";
            string argument = parts.Length > 2 ? parts[2] : "";
            string? next = null;
            if (id.Length == 0 || !long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                Reply(output, "?", $"error bad id '{id}': expected a whole number of at least 0");
            }
            else if (verb == "exit" && int.TryParse(argument, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int code))
            {
                return code; // no reply, nothing more read
            }
            else if (verb == "hold" && argument.Length == 0)
            {
                // Answer nothing more; read (and ignore) the input until it ends.
                while (input.ReadLine() is not null)
                {
                }

                return 0;
            }
            else if (verb == "wait" && argument.Length == 0)
            {
                // Answer only once the next line has arrived, then handle that line.
                next = input.ReadLine();
                Reply(output, id, "ok");
                if (next is null)
                {
                    return 0;
                }
            }
            else if (verb == "noise" && int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out int bytes))
            {
                error.Write(new string('.', bytes));
                error.Flush();
                Reply(output, id, "ok");
            }
            else if (verb == "check")
            {
                Reply(output, id, Check(argument));
            }
            else
            {
                Reply(output, id, $"error unknown verb or bad arguments: '{verb} {argument}'");
            }

            line = next ?? input.ReadLine();
        }

        return 0; // end of input: the pool closed our stdin
    }

    /// <summary>The reply body for <c>check n1,n2,...</c>: "ok " and one digit per number, or an error.</summary>
    private static string Check(string argument)
    {
        var verdicts = new StringBuilder("ok ");
        foreach (string text in argument.Split(','))
        {
            // TryParse, never Parse: a bad number gets an error reply, it does not kill the worker.
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n))
            {
                return $"error bad number '{text}': expected a whole number between {long.MinValue} and {long.MaxValue}";
            }

            verdicts.Append(Primes.IsPrime(n) ? '1' : '0');
        }

        return verdicts.ToString();
    }

    /// <summary>Writes one reply line and flushes it at once: the pool is waiting for it.</summary>
    private static void Reply(TextWriter output, string id, string body)
    {
        output.Write(id);
        output.Write(' ');
        output.Write(body);
        output.Write('\n'); // the protocol's line ending on every OS (WriteLine would be "\r\n" on Windows)
        output.Flush();
    }
}
