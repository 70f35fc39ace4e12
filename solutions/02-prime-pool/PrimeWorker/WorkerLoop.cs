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
            Request request = Parse(line);
            string? next = null;
            switch (request.Verb)
            {
                case "exit" when TryParseInt(request.Argument, out int code):
                    // A test hook: leave at once, no reply, nothing more read. Main returns the code.
                    return code;

                case "hold" when request.Argument.Length == 0:
                    // A test hook: a task that stays in flight until the pool kills the worker or closes its stdin.
                    // Reading on (and ignoring what comes) is how the worker notices the end of input.
                    while (input.ReadLine() is not null)
                    {
                    }

                    return 0;

                case "wait" when request.Argument.Length == 0:
                    // A test hook: a task that stays in flight until the next request arrives. Its late reply
                    // comes just before that request's own reply, which is how a pool must tell them apart by id.
                    next = input.ReadLine();
                    Reply(output, request.Id, "ok");
                    if (next is null)
                    {
                        return 0;
                    }

                    break;

                default:
                    Reply(output, request.Id, Answer(request, error));
                    break;
            }

            line = next ?? input.ReadLine();
        }

        // End of input: the pool closed our stdin (or died). A clean exit, so no worker outlives its pool.
        return 0;
    }

    /// <summary>Works out the reply body for every request that gets one at once.</summary>
    private static string Answer(Request request, TextWriter error)
    {
        if (request.Problem is not null)
        {
            return "error " + request.Problem;
        }

        try
        {
            switch (request.Verb)
            {
                case "check":
                    return Check(request.Argument);

                case "noise" when TryParseInt(request.Argument, out int bytes) && bytes >= 0:
                    WriteNoise(error, bytes);
                    return "ok";

                case "exit" or "hold" or "wait" or "noise":
                    return $"error bad arguments for '{request.Verb}': '{request.Argument}'";

                default:
                    return $"error unknown verb '{request.Verb}'";
            }
        }
        catch (Exception ex)
        {
            // Whatever goes wrong with one request is that request's error, not the end of the worker: the pool
            // would otherwise lose every later request it sends here. (One line: the message must not break framing.)
            return "error " + ex.GetType().Name + ": " + OneLine(ex.Message);
        }
    }

    /// <summary>Answers <c>check n1,n2,...</c>: "ok " and one digit per number.</summary>
    private static string Check(string argument)
    {
        if (argument.Length == 0)
        {
            return "error 'check' needs at least one number";
        }

        string[] numbers = argument.Split(',');
        var answer = new StringBuilder("ok ", 3 + numbers.Length);
        foreach (string text in numbers)
        {
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n))
            {
                return $"error bad number '{OneLine(text)}': expected a whole number between {long.MinValue} and {long.MaxValue}";
            }

            answer.Append(Primes.IsPrime(n) ? '1' : '0');
        }

        return answer.ToString();
    }

    /// <summary>Writes <paramref name="bytes"/> bytes of ASCII to stderr, in lines of 80, and flushes them.</summary>
    private static void WriteNoise(TextWriter error, int bytes)
    {
        const int LineLength = 80;
        string fullLine = new string('.', LineLength - 1) + "\n";
        for (int left = bytes; left > 0; left -= LineLength)
        {
            error.Write(left >= LineLength ? fullLine : new string('.', left));
        }

        error.Flush();
    }

    /// <summary>Writes one reply line and flushes it. Without the flush, the reply would wait in the writer's
    /// buffer until it filled up or the worker exited, and the pool would wait for it forever.</summary>
    private static void Reply(TextWriter output, string id, string body)
    {
        // '\n' explicitly, not WriteLine: TextWriter.NewLine is "\r\n" on Windows, and the protocol says '\n'.
        output.Write(id);
        output.Write(' ');
        output.Write(body);
        output.Write('\n');
        output.Flush();
    }

    /// <summary>Splits a line into id, verb and argument: <c>"&lt;id&gt; &lt;verb&gt; &lt;argument&gt;"</c>.</summary>
    private static Request Parse(string line)
    {
        // Be lenient with a client that ends lines in "\r\n".
        line = line.TrimEnd('\r');
        string[] parts = line.Split(' ', 3);
        string idText = parts[0];
        if (idText.Length == 0 || !long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            string problem = line.Length == 0 ? "empty line: expected '<id> <verb> [arguments]'" : $"bad id '{OneLine(idText)}': expected a whole number of at least 0";
            return new Request("?", "", "", problem);
        }

        if (parts.Length < 2 || parts[1].Length == 0)
        {
            return new Request(idText, "", "", "missing verb: expected '<id> <verb> [arguments]'");
        }

        return new Request(idText, parts[1], parts.Length == 3 ? parts[2] : "", null);
    }

    private static bool TryParseInt(string text, out int value) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    /// <summary>Keeps an echoed piece of the request short and on one line.</summary>
    private static string OneLine(string text)
    {
        string flat = text.ReplaceLineEndings(" ");
        return flat.Length <= 60 ? flat : flat[..60] + "...";
    }

    /// <summary>One request line, split up; <see cref="Problem"/> is set when it is malformed.</summary>
    private readonly record struct Request(string Id, string Verb, string Argument, string? Problem);
}
