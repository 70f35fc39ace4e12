using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;
using ConcurrencyKata.Tests.PrimePoolTests;

#pragma warning disable CA1050 // The runtime looks for a type named StartupHook outside any namespace.

/// <summary>
/// The fake worker program. <see cref="FakeWorker"/> names this assembly in <c>DOTNET_STARTUP_HOOKS</c> while a test
/// runs, so every worker process the pool starts meanwhile runs <see cref="Initialize"/> before its own
/// <c>Main</c>, and, when <c>KATA_FAKE_WORKER</c> names a mode, never returns to it: the process is the fake, not
/// the learner's worker. That is how a test forces a fault the real worker never makes on purpose (a reply cut off
/// by its death, a garbled reply, a death at start-up or in the middle of a request), deterministically, through
/// the real pipes of a real child process, without any change to the pool's public API.
/// </summary>
/// <remarks>
/// Runs inside the worker process: it may use only the base library and this assembly's plain helpers
/// (<see cref="Oracle"/>), never NUnit or the test support, which that process cannot load.
/// </remarks>
internal static class StartupHook
{
    /// <summary>The runtime calls this before the worker's <c>Main</c>.</summary>
    internal static void Initialize()
    {
        string? mode = Environment.GetEnvironmentVariable(FakeWorker.ModeVariable);
        if (string.IsNullOrEmpty(mode))
        {
            return; // the real worker, unchanged
        }

        Environment.Exit(Run(mode));
    }

    private static int Run(string mode)
    {
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        Stream stdout = Console.OpenStandardOutput();
        using var error = new StreamWriter(Console.OpenStandardError(), utf8) { AutoFlush = true };
        switch (mode)
        {
            case FakeWorker.DieAtStartUp:
                // Chatter first, then the last words: a crash report carries the END of stderr.
                for (int i = 0; i < 200; i++)
                {
                    error.Write(new string('.', 99) + "\n");
                }

                error.Write(FakeWorker.LastWords + "\n");
                return 5;

            case FakeWorker.DieMidRequest:
            {
                // Reads one piece of the first request (the pool has started writing it), then dies with the rest
                // unread, so the pool's write of a request bigger than the pipe fails: a broken pipe.
                Stream stdin = Console.OpenStandardInput();
                byte[] piece = new byte[256];
                int read = stdin.Read(piece);
                Log($"read {read.ToString(CultureInfo.InvariantCulture)} bytes of a request, then died");
                return 7;
            }

            default:
                return Serve(utf8, stdout);
        }
    }

    /// <summary>The scripted worker: answers checks like the real one, but a trigger number in a check makes it
    /// misbehave in one precise way (see the constants of <see cref="FakeWorker"/>).</summary>
    private static int Serve(UTF8Encoding utf8, Stream stdout)
    {
        using var input = new StreamReader(Console.OpenStandardInput(), utf8);
        string? line = input.ReadLine();
        while (line is not null)
        {
            Log(line);
            string[] parts = line.Split(' ', 3);
            string id = parts[0];
            string verb = parts.Length > 1 ? parts[1] : "";
            long[] numbers = verb == "check" && parts.Length > 2
                ? parts[2].Split(',').Select(n => long.Parse(n, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)).ToArray()
                : [];
            string verdicts = string.Concat(numbers.Select(n => Oracle.IsPrime(n) ? '1' : '0'));
            string? next = null;

            if (verb != "check")
            {
                Write(stdout, utf8, $"{id} error the fake worker only answers checks\n");
            }
            else if (numbers.Contains(FakeWorker.ErrorReply))
            {
                Write(stdout, utf8, $"{id} error {FakeWorker.ErrorMessage}\n");
            }
            else if (numbers.Contains(FakeWorker.LateReply))
            {
                // Like the real worker's 'wait': the reply goes out only once the next line has arrived.
                next = input.ReadLine();
                Write(stdout, utf8, $"{id} ok {verdicts}\n");
                if (next is null)
                {
                    break;
                }
            }
            else if (numbers.Contains(FakeWorker.GarbledVerdicts))
            {
                Write(stdout, utf8, $"{id} ok {new string('x', numbers.Length)}\n");
            }
            else if (numbers.Contains(FakeWorker.MalformedReply))
            {
                Write(stdout, utf8, $"{id} okay\n");
            }
            else if (numbers.Contains(FakeWorker.ReplyWithoutId))
            {
                Write(stdout, utf8, $"ok {verdicts}\n");
            }
            else if (numbers.Contains(FakeWorker.ReplyWithUnknownId))
            {
                long other = long.Parse(id, CultureInfo.InvariantCulture) + 1000;
                Write(stdout, utf8, $"{other.ToString(CultureInfo.InvariantCulture)} ok {verdicts}\n");
            }
            else if (numbers.Contains(FakeWorker.ReplyEndingInCrLf))
            {
                Write(stdout, utf8, $"{id} ok {verdicts}\r\n");
            }
            else if (numbers.Contains(FakeWorker.Hold))
            {
                while (input.ReadLine() is not null)
                {
                }

                break;
            }
            else if (numbers.Contains(FakeWorker.CutReply))
            {
                // Dies in the middle of its reply: the last bytes on its stdout are a line without its '\n'.
                Write(stdout, utf8, $"{id} ok 10");
                Log("cut its reply short and died");
                return 3;
            }
            else if (numbers.Contains(FakeWorker.Exit))
            {
                return 4;
            }
            else if (numbers.Contains(FakeWorker.CloseStdoutAndLinger))
            {
                // Closes its stdout but lives on: the pool sees the end of stdout while the process is still
                // running, so its exit code cannot be read yet.
                stdout.Dispose();
                CloseEveryDescriptorOf("/proc/self/fd/1");

                Log("closed its stdout");
                while (input.ReadLine() is not null)
                {
                }

                break;
            }
            else
            {
                Write(stdout, utf8, $"{id} ok {verdicts}\n");
            }

            line = next ?? input.ReadLine();
        }

        Log(FakeWorker.EndOfInput);
        return 0;
    }

    /// <summary>Closes every file descriptor of this process that refers to what <paramref name="link"/> refers to
    /// (Linux): the runtime and the console keep duplicates of descriptor 1, and the pipe ends only when all are closed.</summary>
    private static void CloseEveryDescriptorOf(string link)
    {
        string? target = new FileInfo(link).LinkTarget;
        foreach (string descriptor in Directory.GetFiles("/proc/self/fd"))
        {
            if (new FileInfo(descriptor).LinkTarget == target &&
                int.TryParse(Path.GetFileName(descriptor), NumberStyles.None, CultureInfo.InvariantCulture, out int fd))
            {
                new SafeFileHandle(fd, ownsHandle: true).Dispose();
            }
        }
    }

    private static void Write(Stream stdout, UTF8Encoding utf8, string text)
    {
        stdout.Write(utf8.GetBytes(text));
        stdout.Flush();
    }

    /// <summary>Appends one line to this process's log of what it saw (a file of its own, named after its process
    /// id, in the test's log folder), flushed at once: the test reads it while the process may still run.</summary>
    private static void Log(string what)
    {
        if (Environment.GetEnvironmentVariable(FakeWorker.LogVariable) is { Length: > 0 } folder)
        {
            try
            {
                File.AppendAllText(Path.Combine(folder, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".log"), what + "\n");
            }
            catch (IOException)
            {
                // The test has ended and removed its log folder: nobody reads this line any more.
            }
        }
    }
}
