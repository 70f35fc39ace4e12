using System.Text;

namespace ConcurrencyKata.Tests.PrimePoolTests;

/// <summary>
/// Runs the learner's <see cref="WorkerLoop.Run"/> inside the test process, over strings: fast and precise. The
/// input is fed line by line and remembers, for each line, what the worker had written (and flushed) by the time
/// it asked for that line. So the tests can see whether a reply was flushed before the next request was read, and
/// whether a reply came before or after a line arrived.
/// </summary>
internal sealed class InProcessWorker
{
    private readonly ScriptedInput _input;
    private readonly RecordingWriter _output = new();
    private readonly RecordingWriter _error = new();

    private InProcessWorker(IEnumerable<string> lines)
    {
        _input = new ScriptedInput(lines, _output);
    }

    /// <summary>What Run returned.</summary>
    public int ExitCode { get; private set; }

    /// <summary>The reply lines, in order.</summary>
    public string[] Replies => _output.Text.Length == 0 ? [] : _output.Text.TrimEnd('\n').Split('\n');

    /// <summary>Everything written to stdout, as it is.</summary>
    public string Output => _output.Text;

    /// <summary>Everything written to stderr.</summary>
    public string Error => _error.Text;

    /// <summary>How many lines the worker asked for, counting the final null (end of input) as one.</summary>
    public int ReadCalls => _input.ReadCalls;

    /// <summary>For each ReadLine call, in order: the text on stdout that had not been flushed yet at that moment.</summary>
    public IReadOnlyList<string> UnflushedAtEachRead => _input.UnflushedAtEachRead;

    /// <summary>For each ReadLine call, in order: everything on stdout at that moment, flushed or not.</summary>
    public IReadOnlyList<string> OutputAtEachRead => _input.OutputAtEachRead;

    /// <summary>Text written after the last flush, once Run has returned.</summary>
    public string UnflushedAtTheEnd => _output.Unflushed;

    /// <summary>Runs WorkerLoop.Run over <paramref name="lines"/> on a <see cref="LearnerThread"/> with a deadline.</summary>
    /// <param name="lines">The request lines, without line endings.</param>
    /// <param name="diagnosisIfStuck">Why Run might not return.</param>
    public static InProcessWorker Run(IEnumerable<string> lines, string diagnosisIfStuck =
        "Run must return when the input ends: ReadLine returns null at the end of input, and that is the end of the loop.")
    {
        var worker = new InProcessWorker(lines);
        worker.ExitCode = (int)LearnerThread.Start("worker loop", () => WorkerLoop.Run(worker._input, worker._output, worker._error))
            .ShouldFinish(
                diagnosisIfStuck,
                diagnosisIfThrew: "A malformed line gets an error reply ('<id> error <message>'); the worker does not die. Catch what goes " +
                                  "wrong with one request and answer it with an error.")!;
        return worker;
    }

    /// <summary>Feeds lines to the worker and notes the state of its stdout at every read.</summary>
    private sealed class ScriptedInput(IEnumerable<string> lines, RecordingWriter output) : TextReader
    {
        private readonly Queue<string> _lines = new(lines);

        public int ReadCalls { get; private set; }

        public List<string> UnflushedAtEachRead { get; } = [];

        public List<string> OutputAtEachRead { get; } = [];

        public override string? ReadLine()
        {
            ReadCalls++;
            UnflushedAtEachRead.Add(output.Unflushed);
            OutputAtEachRead.Add(output.Text);
            return _lines.Count > 0 ? _lines.Dequeue() : null;
        }

        public override int Peek() => throw new NotSupportedException("The worker reads whole lines: use ReadLine.");

        public override int Read() => throw new NotSupportedException("The worker reads whole lines: use ReadLine.");
    }

    /// <summary>Records what is written, and how much of it has been flushed.</summary>
    private sealed class RecordingWriter : TextWriter
    {
        private readonly StringBuilder _text = new();
        private int _flushed;

        /// <summary>The protocol's line ending, so that WriteLine works as well as Write('\n').</summary>
        public RecordingWriter() => NewLine = "\n";

        public override Encoding Encoding => Encoding.UTF8;

        public string Text => _text.ToString();

        public string Unflushed => _text.ToString(_flushed, _text.Length - _flushed);

        public override void Write(char value) => _text.Append(value);

        public override void Write(string? value) => _text.Append(value);

        public override void Write(char[] buffer, int index, int count) => _text.Append(buffer, index, count);

        public override void Write(ReadOnlySpan<char> buffer) => _text.Append(buffer);

        public override void Flush() => _flushed = _text.Length;
    }
}
