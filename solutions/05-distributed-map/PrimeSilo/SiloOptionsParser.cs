// Provided by the kata: not part of the exercise, identical in exercises/ and solutions/.
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace ConcurrencyKata;

/// <summary>PrimeSilo's command line (<c>--name value</c> pairs, and bare <c>--flag</c>s) and its logging.</summary>
internal static class SiloOptionsParser
{
    /// <summary>Reads <c>--name value</c> pairs; a <c>--flag</c> followed by another option (or nothing) is "true".</summary>
    public static IReadOnlyDictionary<string, string> Parse(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument '{args[i]}': options are --name value.");
            }

            bool hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
            options[args[i][2..]] = hasValue ? args[++i] : "true";
        }

        return options;
    }

    /// <summary>A port number option.</summary>
    public static int Port(IReadOnlyDictionary<string, string> options, string name) =>
        options.TryGetValue(name, out string? text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and < 65536
            ? port
            : throw new ArgumentException($"--{name} needs a port number (1 to 65535).");

    /// <summary>Warnings and errors only, all on stderr: stdout carries the lines a parent process reads.</summary>
    public static void LogWarningsToStandardError(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddSimpleConsole(o => o.SingleLine = true);
        logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }
}
