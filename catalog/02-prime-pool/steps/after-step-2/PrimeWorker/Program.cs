// The worker process: PrimePool starts this program and speaks to it over its stdin and stdout.
// It answers requests until its stdin ends (or an `exit` request), and its exit code is WorkerLoop.Run's.
using System.Text;
using ConcurrencyKata;

// UTF-8 without a byte-order mark: a BOM would arrive in front of the first reply's id.
var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
using var input = new StreamReader(Console.OpenStandardInput(), utf8);
using var output = new StreamWriter(Console.OpenStandardOutput(), utf8);
using var error = new StreamWriter(Console.OpenStandardError(), utf8) { AutoFlush = true };
return WorkerLoop.Run(input, output, error);
