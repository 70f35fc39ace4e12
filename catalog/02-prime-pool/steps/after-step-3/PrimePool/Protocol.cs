using System.Globalization;
using System.Text;

namespace ConcurrencyKata;

/// <summary>
/// The pool's side of the line protocol (exercises/02-prime-pool/README.md, "The protocol"): how a request line is
/// written and how a reply line is read. Text lines in UTF-8 without a byte-order mark, each ending in <c>'\n'</c>;
/// a request is <c>"&lt;id&gt; &lt;body&gt;"</c>, its reply <c>"&lt;id&gt; ok ..."</c> or <c>"&lt;id&gt; error ..."</c>.
/// </summary>
/// <remarks>Pure functions of their arguments: no state, no lock, safe from any thread. Add or change members as
/// you like: only <see cref="PrimePool"/> uses them.</remarks>
internal static class Protocol
{
    /// <summary>UTF-8 without a byte-order mark, both ways: a BOM written in front of the first request would garble its id.</summary>
    public static readonly UTF8Encoding Encoding = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Whether <paramref name="body"/> fits on one line: a line break inside it would make the worker read
    /// two requests, the second one without an id the pool knows.</summary>
    public static bool IsOneLine(string body) => !body.Contains('\n', StringComparison.Ordinal) && !body.Contains('\r', StringComparison.Ordinal);

    /// <summary>The request line for <paramref name="body"/>: <c>"&lt;id&gt; &lt;body&gt;\n"</c>, as written to the worker's stdin.</summary>
    public static string FormatRequest(long id, string body) => id.ToString(CultureInfo.InvariantCulture) + " " + body + "\n";

    /// <summary>The body <c>"check n1,n2,..."</c> for <paramref name="count"/> numbers of <paramref name="numbers"/>
    /// from <paramref name="start"/> on.</summary>
    public static string FormatCheck(IReadOnlyList<long> numbers, int start, int count) =>
        "check " + string.Join(',', numbers.Skip(start).Take(count).Select(n => n.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Splits a reply line into the id's text and the body: <c>"7 ok 101"</c> is <c>("7", "ok 101")</c>.</summary>
    public static (string IdText, string Body) SplitReply(string line)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? (line, "") : (line[..space], line[(space + 1)..]);
    }

    /// <summary>Reads a reply's id: a whole number of at least 0. <c>"?"</c> (the worker could not read the request's
    /// id) and anything unreadable are not ids.</summary>
    public static bool TryParseId(string idText, out long id) => long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out id);

    /// <summary>Whether <paramref name="body"/> is a success: <c>"ok"</c>, or <c>"ok "</c> and the result.</summary>
    public static bool IsSuccess(string body) => body == "ok" || body.StartsWith("ok ", StringComparison.Ordinal);

    /// <summary>Whether <paramref name="body"/> is an error reply, <c>"error &lt;message&gt;"</c>; the worker's
    /// message in <paramref name="message"/>.</summary>
    public static bool TryGetError(string body, out string message) =>
        // TODO (Step 4): an error reply fails that request only, with WorkerErrorException(message).
        throw new NotImplementedException("Step 4 (exercise 02): implement Protocol.TryGetError. See Step 4 in exercises/02-prime-pool/README.md.");

    /// <summary>Reads <c>"ok 1011"</c> as four verdicts; anything else, for <paramref name="count"/> numbers, is a
    /// reply that does not answer the check.</summary>
    /// <exception cref="WorkerErrorException">The body is not <c>"ok "</c> and one <c>0</c> or <c>1</c> per number.</exception>
    public static bool[] ParseVerdicts(string body, int count)
    {
        if (body.Length != 3 + count || !body.StartsWith("ok ", StringComparison.Ordinal) || body.Skip(3).Any(c => c is not ('0' or '1')))
        {
            throw new WorkerErrorException($"The reply '{body}' does not answer a check of {count} number(s).");
        }

        return body.Skip(3).Select(c => c == '1').ToArray();
    }
}
