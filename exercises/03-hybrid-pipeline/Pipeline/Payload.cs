// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
using System.Globalization;

namespace ConcurrencyKata;

/// <summary>One fetched payload: the numbers that the URL at <see cref="Index"/> of the input answered with.</summary>
/// <param name="Index">The URL's position in the input list.</param>
/// <param name="Url">The URL it came from.</param>
/// <param name="Numbers">The numbers in the response body, in order.</param>
public sealed record Payload(int Index, Uri Url, IReadOnlyList<long> Numbers)
{
    /// <summary>Reads a response body: numbers separated by commas, spaces or line breaks (e.g. <c>"7,8,9"</c>);
    /// an empty body is no numbers.</summary>
    /// <param name="index">The URL's position in the input list.</param>
    /// <param name="url">The URL the body came from.</param>
    /// <param name="body">The response body.</param>
    /// <returns>The payload.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="url"/> or <paramref name="body"/> is null.</exception>
    /// <exception cref="FormatException">The body holds something that is not a whole number.</exception>
    public static Payload Parse(int index, Uri url, string body)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(body);
        string[] parts = body.Split([',', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var numbers = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out numbers[i]))
            {
                throw new FormatException($"The body of {url} holds '{parts[i]}', which is not a whole number.");
            }
        }

        return new Payload(index, url, numbers);
    }
}
