using System.Globalization;
using System.Text;

namespace ConcurrencyKata;

/// <summary>
/// The pool's side of the line protocol (exercises/02-prime-pool/README.md, "The protocol"): how a request line is
/// written and how a reply line is read. Text lines in UTF-8 without a byte-order mark, each ending in <c>'\n'</c>;
/// a request is <c>"&lt;id&gt; &lt;body&gt;"</c>, its reply <c>"&lt;id&gt; ok ..."</c> or <c>"&lt;id&gt; error ..."</c>.
/// </summary>
/// <remarks>Pure functions of their arguments: no state, no lock, safe from any thread.</remarks>
internal static class Protocol
{
    /// <summary>UTF-8 without a byte-order mark, both ways: a BOM written in front of the first request would garble its id.</summary>
    public static readonly UTF8Encoding Encoding = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Whether <paramref name="body"/> fits on one line: a line break inside it would make the worker read
    /// two requests, the second one without an id the pool knows.</summary>
    public static bool IsOneLine(string body) =>
        !body.Contains('\n', StringComparison.Ordinal) && !body.Contains('\r', StringComparison.Ordinal);

    /// <summary>The request line for <paramref name="body"/>: <c>"&lt;id&gt; &lt;body&gt;\n"</c>, as written to the worker's stdin.</summary>
    /// <remarks>'\n' explicitly, never <see cref="Environment.NewLine"/>: the protocol's line ending is the same on every system.</remarks>
    public static string FormatRequest(long id, string body) => id.ToString(CultureInfo.InvariantCulture) + " " + body + "\n";

    /// <summary>The body <c>"check n1,n2,..."</c> for <paramref name="count"/> numbers of <paramref name="numbers"/>
    /// from <paramref name="start"/> on.</summary>
    /// <remarks>Invariant culture: a culture's own minus sign or digit grouping would be a bad number to the worker.</remarks>
    public static string FormatCheck(IReadOnlyList<long> numbers, int start, int count)
    {
        var body = new StringBuilder("check ");
        for (int i = start; i < start + count; i++)
        {
            if (i > start)
            {
                body.Append(',');
            }

            body.Append(numbers[i].ToString(CultureInfo.InvariantCulture));
        }

        return body.ToString();
    }

    /// <summary>Splits a reply line into the id's text and the body: <c>"7 ok 101"</c> is <c>("7", "ok 101")</c>.</summary>
    public static (string IdText, string Body) SplitReply(string line)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? (line, "") : (line[..space], line[(space + 1)..]);
    }

    /// <summary>Reads a reply's id: a whole number of at least 0. <c>"?"</c> (the worker could not read the request's
    /// id) and anything unreadable are not ids.</summary>
    public static bool TryParseId(string idText, out long id) =>
        long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out id);

    /// <summary>Whether <paramref name="body"/> is a success: <c>"ok"</c>, or <c>"ok "</c> and the result.</summary>
    public static bool IsSuccess(string body) => body == "ok" || body.StartsWith("ok ", StringComparison.Ordinal);

    /// <summary>Whether <paramref name="body"/> is an error reply, <c>"error &lt;message&gt;"</c>; the worker's
    /// message in <paramref name="message"/>.</summary>
    public static bool TryGetError(string body, out string message)
    {
        if (body == "error" || body.StartsWith("error ", StringComparison.Ordinal))
        {
            message = body.Length > 6 ? body[6..] : "The worker answered with an error.";
            return true;
        }

        message = "";
        return false;
    }

    /// <summary>Reads <c>"ok 1011"</c> as four verdicts; anything else, for <paramref name="count"/> numbers, is a
    /// reply that does not answer the check.</summary>
    /// <exception cref="WorkerErrorException">The body is not <c>"ok "</c> and one <c>0</c> or <c>1</c> per number.</exception>
    public static bool[] ParseVerdicts(string body, int count)
    {
        if (body.Length != 3 + count || !body.StartsWith("ok ", StringComparison.Ordinal))
        {
            throw new WorkerErrorException($"The reply '{Shorten(body)}' does not answer a check of {count} number(s).");
        }

        var verdicts = new bool[count];
        for (int i = 0; i < count; i++)
        {
            char c = body[3 + i];
            if (c is not ('0' or '1'))
            {
                throw new WorkerErrorException($"The reply '{Shorten(body)}' has '{c}' where a verdict (0 or 1) belongs.");
            }

            verdicts[i] = c == '1';
        }

        return verdicts;
    }

    /// <summary>Keeps a quoted piece of a line short enough for an exception message.</summary>
    public static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "...";
}
