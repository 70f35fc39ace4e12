// The worker process: PrimePool starts this program and speaks to it over its stdin and stdout.
// It answers requests until its stdin ends (or an `exit` request), and its exit code is WorkerLoop.Run's.

// TODO (Step 2): run WorkerLoop.Run over this process's stdin, stdout and stderr, and return its result as the exit
// code (a top-level program can `return` an int). Open the streams with Console.OpenStandardInput() / Output() /
// Error() and wrap them in a StreamReader / StreamWriter with UTF-8 *without* a byte-order mark
// (new UTF8Encoding(false)): a BOM would arrive in front of the first reply's id. Dispose them at the end (`using var`).
throw new NotImplementedException(
    "Step 2 (exercise 02): implement the worker program's entry point in PrimeWorker/Program.cs: run WorkerLoop.Run over " +
    "stdin, stdout and stderr and return its exit code. See Step 2 in exercises/02-prime-pool/README.md.");
