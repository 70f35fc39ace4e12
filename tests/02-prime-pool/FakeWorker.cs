using System.Globalization;

namespace ConcurrencyKata.Tests.PrimePoolTests;

/// <summary>
/// Turns the worker processes a pool starts into a fake worker that the test controls (<see cref="StartupHook"/>),
/// for as long as the returned object lives: <c>using var fake = FakeWorker.Start(FakeWorker.Scripted);</c>. The pool
/// still starts the real PrimeWorker program, through real pipes; the runtime runs this assembly's startup hook
/// first, and the hook plays the fake instead of the learner's <c>Main</c>. Each fake keeps a log of the lines it
/// read, so a test can also see what reached a worker and what never did.
/// </summary>
/// <remarks>
/// The environment is the test process's own, inherited by every process it starts: tests run one at a time
/// (tests/kata.runsettings), and Dispose restores it. Start the fake before the pool starts its first worker.
/// </remarks>
internal sealed class FakeWorker : IDisposable
{
    /// <summary>The environment variable that names the fake's mode; unset, the worker is the real one.</summary>
    public const string ModeVariable = "KATA_FAKE_WORKER";

    /// <summary>The environment variable that names the folder of the fakes' logs.</summary>
    public const string LogVariable = "KATA_FAKE_WORKER_LOG";

    /// <summary>Mode: answers checks like the real worker (verdicts from <see cref="Oracle"/>), except a check that
    /// holds one of the trigger numbers below. Anything but a check gets an error reply.</summary>
    public const string Scripted = "scripted";

    /// <summary>Mode: writes 20 KB of chatter and then <see cref="LastWords"/> to stderr, and exits with code 5
    /// before reading anything.</summary>
    public const string DieAtStartUp = "die-at-start-up";

    /// <summary>Mode: reads the first 256 bytes of the first request and exits with code 7, the rest unread.</summary>
    public const string DieMidRequest = "die-mid-request";

    /// <summary>The last line a <see cref="DieAtStartUp"/> fake writes to stderr.</summary>
    public const string LastWords = "fake worker: cannot start, and these are its last words";

    /// <summary>What a scripted fake logs when its input ends.</summary>
    public const string EndOfInput = "end of input";

    /// <summary>A check with this number gets an error reply, <c>"&lt;id&gt; error " + <see cref="ErrorMessage"/></c>.</summary>
    public const long ErrorReply = -1001;

    /// <summary>The message of <see cref="ErrorReply"/>.</summary>
    public const string ErrorMessage = "the fake worker refuses this check";

    /// <summary>A check with this number is answered (correctly) only once the next line has arrived, like 'wait'.</summary>
    public const long LateReply = -1002;

    /// <summary>A check with this number gets <c>"&lt;id&gt; ok xxx"</c>: one 'x' per number instead of a verdict.</summary>
    public const long GarbledVerdicts = -1003;

    /// <summary>A check with this number gets <c>"&lt;id&gt; okay"</c>: neither "ok" nor "error".</summary>
    public const long MalformedReply = -1004;

    /// <summary>A check with this number gets its verdicts without the id: <c>"ok 0"</c>.</summary>
    public const long ReplyWithoutId = -1005;

    /// <summary>A check with this number makes the fake answer nothing more, read its input to the end, and exit 0.</summary>
    public const long Hold = -1006;

    /// <summary>A check with this number gets <c>"&lt;id&gt; ok 10"</c> without its '\n', and the fake exits with code 3.</summary>
    public const long CutReply = -1007;

    /// <summary>A check with this number makes the fake exit with code 4 at once, without a reply.</summary>
    public const long Exit = -1008;

    /// <summary>A check with this number gets its verdicts under an id 1000 above its own: a reply that answers
    /// no request this worker has.</summary>
    public const long ReplyWithUnknownId = -1009;

    /// <summary>A check with this number makes the fake close its stdout and live on, reading its input to the end
    /// (Linux only: it finds its descriptors in /proc).</summary>
    public const long CloseStdoutAndLinger = -1010;

    /// <summary>A check with this number gets its verdicts in a line that ends in "\r\n", as WriteLine writes it on Windows.</summary>
    public const long ReplyEndingInCrLf = -1011;

    private readonly string _logFolder;
    private readonly string? _previousHooks;

    private FakeWorker(string mode)
    {
        _logFolder = Directory.CreateTempSubdirectory("kata-fake-worker-").FullName;
        _previousHooks = Environment.GetEnvironmentVariable("DOTNET_STARTUP_HOOKS");
        string hook = typeof(FakeWorker).Assembly.Location;
        Environment.SetEnvironmentVariable("DOTNET_STARTUP_HOOKS", string.IsNullOrEmpty(_previousHooks) ? hook : hook + Path.PathSeparator + _previousHooks);
        Environment.SetEnvironmentVariable(ModeVariable, mode);
        Environment.SetEnvironmentVariable(LogVariable, _logFolder);
    }

    /// <summary>Makes every worker process started from now on a fake in <paramref name="mode"/>, until Dispose.</summary>
    public static FakeWorker Start(string mode) => new(mode);

    /// <summary>The trigger numbers as a check's text, e.g. <c>Check(7, FakeWorker.ErrorReply)</c> is
    /// <c>"check 7,-1001"</c>.</summary>
    public static string Check(params long[] numbers) =>
        "check " + string.Join(',', numbers.Select(n => n.ToString(CultureInfo.InvariantCulture)));

    /// <summary>What each fake has logged so far, by process id: the request lines it read (without their
    /// '\n'), and notes such as <see cref="EndOfInput"/>.</summary>
    public IReadOnlyDictionary<int, string[]> Logs() =>
        Directory.GetFiles(_logFolder, "*.log").ToDictionary(
            path => int.Parse(Path.GetFileNameWithoutExtension(path), CultureInfo.InvariantCulture),
            path => File.ReadAllLines(path));

    /// <summary>Every request line any fake has read, without ids: <c>"check 7,8"</c>.</summary>
    public IReadOnlyList<string> RequestsReceived() =>
        Logs().Values.SelectMany(lines => lines)
            .Where(line => line.Length > 0 && char.IsAsciiDigit(line[0]))
            .Select(line => line[(line.IndexOf(' ', StringComparison.Ordinal) + 1)..])
            .ToList();

    /// <summary>Restores the environment: workers started from now on are real again.</summary>
    public void Dispose()
    {
        Environment.SetEnvironmentVariable("DOTNET_STARTUP_HOOKS", _previousHooks);
        Environment.SetEnvironmentVariable(ModeVariable, null);
        Environment.SetEnvironmentVariable(LogVariable, null);
        try
        {
            Directory.Delete(_logFolder, recursive: true);
        }
        catch (IOException)
        {
            // A fake still writing its log: the folder is left in the temp folder.
        }
    }
}
