using System.Diagnostics;
using System.Text;

namespace ConcurrencyKata.TestSupport;

/// <summary>
/// A child process that a test talks to over its stdin and stdout, line by line, with a deadline on every wait
/// (docs/testing.md, rules 4 and 8). Its stdout and stderr are drained all the time by two dedicated
/// background threads, so the process never blocks on a full pipe however much it writes, and the test never
/// blocks on a read: it waits for a line with a deadline. When the process dies instead of answering, the failure
/// message says so, with its exit code and the end of its stderr (where .NET prints an unhandled exception).
/// </summary>
/// <remarks>
/// Every process started here is recorded with <see cref="ChildProcesses"/>, and the tear-down of
/// <see cref="ChildProcessTest"/> disposes (kills) any the test did not dispose itself.
/// </remarks>
public sealed class TrackedProcess : IDisposable
{
    /// <summary>The lock protecting <see cref="s_started"/>.</summary>
    private static readonly object s_registryLock = new();

    /// <summary>Every process started, with the id of the test that started it. Guarded by <see cref="s_registryLock"/>.</summary>
    private static readonly List<(string TestId, TrackedProcess Process)> s_started = [];

    private readonly Process _process;

    /// <summary>The lock protecting <see cref="_lines"/>, <see cref="_outputClosed"/> and <see cref="_error"/>;
    /// the monitor a reader waits on for the next line.</summary>
    private readonly object _sync = new();

    /// <summary>Lines read from stdout and not yet taken by <see cref="ReadLine"/>. Guarded by <see cref="_sync"/>.</summary>
    private readonly Queue<string> _lines = new();

    /// <summary>Everything read from stderr so far. Guarded by <see cref="_sync"/>.</summary>
    private readonly StringBuilder _error = new();

    private readonly Thread _outputReader;
    private readonly Thread _errorReader;

    /// <summary>Whether stdout has ended. Guarded by <see cref="_sync"/>.</summary>
    private bool _outputClosed;

    private TrackedProcess(Process process, string name)
    {
        _process = process;
        Name = name;
        Id = process.Id;
        _outputReader = new Thread(ReadOutput) { IsBackground = true, Name = $"{name} stdout reader" };
        _errorReader = new Thread(ReadError) { IsBackground = true, Name = $"{name} stderr reader" };
    }

    /// <summary>The name used in messages, e.g. "worker".</summary>
    public string Name { get; }

    /// <summary>The process id.</summary>
    public int Id { get; }

    /// <summary>Everything the process has written to stderr so far.</summary>
    public string StandardError
    {
        get
        {
            lock (_sync)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="fileName"/> with stdin, stdout and stderr redirected (UTF-8, no BOM), records
    /// it for the current test, and starts draining its output.</summary>
    /// <param name="fileName">The program, e.g. an apphost next to the tests.</param>
    /// <param name="name">What it is, for messages.</param>
    public static TrackedProcess Start(string fileName, string name) => Start(fileName, name, []);

    /// <summary>Like <see cref="Start(string, string)"/>, with command-line <paramref name="arguments"/> (each passed
    /// as one argument, no shell).</summary>
    /// <param name="fileName">The program, e.g. an apphost next to the tests.</param>
    /// <param name="name">What it is, for messages.</param>
    /// <param name="arguments">Its arguments.</param>
    public static TrackedProcess Start(string fileName, string name, IReadOnlyList<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        var process = new Process
        {
            StartInfo = new ProcessStartInfo(fileName, arguments)
            {
                UseShellExecute = false,
                CreateNoWindow = true,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardInputEncoding = utf8,
                StandardOutputEncoding = utf8,
                StandardErrorEncoding = utf8,
            },
        };

        try
        {
            process.Start();
        }
        catch
        {
            process.Dispose();
            throw;
        }

        process.StandardInput.NewLine = "\n";
        var tracked = new TrackedProcess(process, name);
        ChildProcesses.Track(tracked.Id, name);
        lock (s_registryLock)
        {
            s_started.Add((TestContext.CurrentContext.Test.ID, tracked));
        }

        tracked._outputReader.Start();
        tracked._errorReader.Start();
        return tracked;
    }

    /// <summary>Disposes every process the current test started and did not dispose. Called by
    /// <see cref="ChildProcessTest"/> at tear-down.</summary>
    public static void DisposeAllOfCurrentTest()
    {
        string testId = TestContext.CurrentContext.Test.ID;
        List<TrackedProcess> mine;
        lock (s_registryLock)
        {
            mine = s_started.Where(s => s.TestId == testId).Select(s => s.Process).ToList();
            s_started.RemoveAll(s => s.TestId == testId);
        }

        mine.ForEach(p => p.Dispose());
    }

    /// <summary>Writes <paramref name="line"/> and a '\n' to the process's stdin and flushes, with a deadline: the
    /// write runs on a dedicated thread, because a process that does not read its input makes a big write block.</summary>
    /// <param name="line">The line, without its '\n'.</param>
    /// <param name="diagnosisIfStuck">Why the process might not be reading its input.</param>
    public void WriteLine(string line, string diagnosisIfStuck = "It does not read its input while it writes its output?")
    {
        Exception? failure = null;
        var writer = new Thread(() =>
        {
            try
            {
                _process.StandardInput.Write(line);
                _process.StandardInput.Write('\n');
                _process.StandardInput.Flush();
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                failure = ex; // the process has closed its stdin: it died, most likely
            }
        })
        { IsBackground = true, Name = $"{Name} stdin writer" };
        writer.Start();
        if (!writer.Join(Deadlines.Hang))
        {
            Assert.Fail($"Writing {Shorten(line)} to the {Name}'s stdin is still blocked after {Deadlines.Describe(Deadlines.Hang)}: the pipe is full " +
                        $"and the {Name} (pid {Id}) does not read it. {diagnosisIfStuck}");
        }

        if (failure is not null)
        {
            FailBecauseGone($"Writing {Shorten(line)} to its stdin failed ({failure.GetType().Name}).");
        }
    }

    /// <summary>Closes the process's stdin: it sees the end of its input.</summary>
    public void CloseInput()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // It died already; the next read or exit check says so.
        }
    }

    /// <summary>Waits for the next line on stdout, or fails: when the deadline passes (with
    /// <paramref name="diagnosisIfSilent"/>), or when stdout ends first (with the exit code and stderr).</summary>
    /// <param name="diagnosisIfSilent">The likely cause if no line comes, e.g. "Flush after every reply."</param>
    /// <param name="deadline">Default <see cref="Deadlines.Hang"/>.</param>
    /// <param name="diagnosisIfGone">The likely cause if the process dies (its stdout ends) instead of writing the
    /// line, e.g. "A malformed line gets an error reply; the worker does not die."; added to the exit code and stderr.</param>
    /// <returns>The line, without its line ending.</returns>
    public string ReadLine(string diagnosisIfSilent, TimeSpan? deadline = null, string? diagnosisIfGone = null)
    {
        TimeSpan limit = deadline ?? Deadlines.Hang;
        var clock = Stopwatch.StartNew();
        lock (_sync)
        {
            while (_lines.Count == 0 && !_outputClosed)
            {
                TimeSpan left = limit - clock.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    Assert.Fail($"The {Name} (pid {Id}) wrote no line on stdout within {Deadlines.Describe(limit)}. {diagnosisIfSilent}");
                }

                Monitor.Wait(_sync, left);
            }

            if (_lines.Count > 0)
            {
                return _lines.Dequeue();
            }
        }

        // Not the diagnosis for silence: the process died (or closed its stdout), and its stderr says more.
        FailBecauseGone("Its stdout ended before it wrote the line the test was waiting for." + (diagnosisIfGone is null ? "" : " " + diagnosisIfGone));
        return null!; // unreachable: FailBecauseGone throws
    }

    /// <summary>Asserts that no line arrives on stdout during <paramref name="pause"/> (a one-sided check: too
    /// short a pause can only miss a stray line).</summary>
    /// <param name="whyNot">The rule a line would break.</param>
    /// <param name="pause">Default <see cref="Settle.Default"/>.</param>
    public void ShouldWriteNothing(string whyNot, TimeSpan? pause = null)
    {
        Settle.OneSided(pause);
        lock (_sync)
        {
            if (_lines.Count > 0)
            {
                Assert.Fail($"The {Name} (pid {Id}) wrote {Shorten(_lines.Peek())}. {whyNot}");
            }
        }
    }

    /// <summary>Waits for the process to exit, or fails with <paramref name="diagnosisIfRunning"/>; returns the exit code.</summary>
    public int ShouldExit(string diagnosisIfRunning, TimeSpan? deadline = null)
    {
        TimeSpan limit = deadline ?? Deadlines.Hang;
        if (!_process.WaitForExit(limit))
        {
            Assert.Fail($"The {Name} (pid {Id}) is still running after {Deadlines.Describe(limit)}. {diagnosisIfRunning}");
        }

        _errorReader.Join(Deadlines.Hang);
        return _process.ExitCode;
    }

    /// <summary>Waits for the process to exit and requires exit code <paramref name="expected"/>; otherwise fails
    /// with the code it had and the end of its stderr.</summary>
    /// <param name="expected">The exit code the process must end with.</param>
    /// <param name="rule">The documented behaviour, e.g. "At the end of its input the worker exits with code 0."</param>
    public void ShouldExitWithCode(int expected, string rule)
    {
        int code = ShouldExit($"It should have exited with code {expected}. {rule}");
        if (code != expected)
        {
            string error = StandardError.Trim();
            ThrowIfAStubStoppedIt(error);
            Assert.Fail(
                $"The {Name} (pid {Id}) exited with code {code}, not {expected}. {rule} " +
                (error.Length == 0 ? "It wrote nothing to stderr." : $"Its stderr: {Shorten(error, 2000)}"));
        }
    }

    /// <summary>Asserts that the process is still running (it has not died of the last request).</summary>
    public void ShouldBeRunning(string diagnosisIfExited)
    {
        if (_process.HasExited)
        {
            FailBecauseGone(diagnosisIfExited);
        }
    }

    /// <summary>Kills the process if it is still running and releases it.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.WaitForExit(Deadlines.Hang);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Gone already.
        }

        _outputReader.Join(Deadlines.Hang);
        _errorReader.Join(Deadlines.Hang);
        _process.Dispose();
    }

    /// <summary>Fails the test because the process died (or is dying): with its exit code and stderr, which for a
    /// .NET program that threw holds the exception, e.g. a stub's NotImplementedException naming the step.</summary>
    private void FailBecauseGone(string what)
    {
        string exit = _process.WaitForExit(Deadlines.Hang) ? $"exited with code {_process.ExitCode}" : "closed its stdout but is still running";
        _errorReader.Join(Deadlines.Hang);
        string error = StandardError.Trim();
        ThrowIfAStubStoppedIt(error);
        Assert.Fail(
            $"The {Name} (pid {Id}) {exit}. {what} " +
            (error.Length == 0 ? "It wrote nothing to stderr." : $"Its stderr: {Shorten(error, 2000)}"));
    }

    /// <summary>A process that died of a stub's NotImplementedException (a program whose step is not done yet) fails
    /// the test the way the stub would in the test's own process: with that exception and its message, which names the
    /// step and the README, rather than with everything the test expected of a working program.</summary>
    private static void ThrowIfAStubStoppedIt(string error)
    {
        const string Unhandled = "Unhandled exception. System.NotImplementedException: ";
        int start = error.IndexOf(Unhandled, StringComparison.Ordinal);
        if (start < 0)
        {
            return;
        }

        string message = error[(start + Unhandled.Length)..];
        int stack = message.IndexOf("\n   at ", StringComparison.Ordinal);
        throw new NotImplementedException((stack < 0 ? message : message[..stack]).Trim());
    }

    private void ReadOutput()
    {
        try
        {
            while (_process.StandardOutput.ReadLine() is { } line)
            {
                lock (_sync)
                {
                    _lines.Enqueue(line);
                    Monitor.PulseAll(_sync);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The pipe broke: the same as its end.
        }
        finally
        {
            lock (_sync)
            {
                _outputClosed = true;
                Monitor.PulseAll(_sync);
            }
        }
    }

    private void ReadError()
    {
        var buffer = new char[4096];
        try
        {
            int read;
            while ((read = _process.StandardError.Read(buffer, 0, buffer.Length)) > 0)
            {
                lock (_sync)
                {
                    _error.Append(buffer, 0, read);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The pipe broke: the same as its end.
        }
    }

    private static string Shorten(string text, int max = 80) => text.Length <= max ? $"\"{text}\"" : $"\"{text[..max]}...\" ({text.Length} characters)";
}
