using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using Microsoft.Coyote;
using Microsoft.Coyote.Logging;
using Microsoft.Coyote.SystematicTesting;

namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Systematic concurrency testing with Microsoft Coyote: runs a scenario again and again, each time under a different
/// thread schedule that Coyote's scheduler picks from a seeded random generator, and stops at the first schedule that
/// fails (an exception, a broken <see cref="ScheduleLog.Require"/>, or a deadlock: every thread blocked).
/// </summary>
/// <remarks>
/// <para>Unlike a stress test, which runs the code many times and hopes the operating system happens to interleave
/// the threads badly, Coyote decides the interleaving itself at every synchronisation point. The same seed always
/// explores the same schedules in the same order, so a failure is reproducible, and a deadlock is reported the moment
/// every thread is blocked, without waiting for a timeout.</para>
/// <para>It only controls code that <c>coyote rewrite</c> has rewritten: tests/Directory.Build.targets rewrites the
/// learner's assembly, the test assembly and this one after every build of a test project that sets
/// <c>KataSystematic</c>. Coyote controls <c>lock</c>/<see cref="Monitor"/>, tasks and <c>await</c>; it does not
/// control raw <see cref="Thread"/>s, <see cref="System.Threading.Lock"/>, or the span overload of
/// <see cref="Task.WhenAll(Task[])"/>. Finite timeouts are explored as if they were infinite.</para>
/// <para>Replay: the failure message prints the seed. <c>KATA_COYOTE_SEED=&lt;seed&gt;</c> replaces every
/// systematic test's seed, and <c>KATA_COYOTE_ITERATIONS=&lt;n&gt;</c> its number of schedules.</para>
/// </remarks>
public static class Systematic
{
    /// <summary>The NUnit category of systematic fixtures (<c>[Category(Systematic.Category)]</c>): their whole-test
    /// deadline is <see cref="Deadlines.SystematicTest"/>, and <c>--filter TestCategory=Systematic</c> selects them.</summary>
    public const string Category = "Systematic";

    /// <summary>The seed every systematic test uses unless <c>KATA_COYOTE_SEED</c> says otherwise. Fixed, so that
    /// every run explores the same schedules: a result never depends on luck.</summary>
    public const uint DefaultSeed = 20_261_126;

    /// <summary>The environment variable that replaces the seed, to replay a failure or to explore other schedules.</summary>
    public const string SeedVariable = "KATA_COYOTE_SEED";

    /// <summary>The environment variable that replaces the number of schedules explored per test.</summary>
    public const string IterationsVariable = "KATA_COYOTE_ITERATIONS";

    /// <summary>The seed in use: <c>KATA_COYOTE_SEED</c> if set, otherwise <see cref="DefaultSeed"/>.</summary>
    public static uint Seed { get; } =
        uint.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out uint seed)
            ? seed
            : DefaultSeed;

    /// <summary>The number of schedules from <c>KATA_COYOTE_ITERATIONS</c>, if set.</summary>
    public static uint? IterationsOverride { get; } =
        uint.TryParse(Environment.GetEnvironmentVariable(IterationsVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out uint iterations) && iterations > 0
            ? iterations
            : null;

    /// <summary>Whether the code running now was rewritten by <c>coyote rewrite</c>: without it, Coyote controls
    /// nothing, misses bugs and reports false deadlocks, so <see cref="Explore"/> refuses to run.</summary>
    /// <param name="type">A type of the assembly to check.</param>
    /// <returns><see langword="true"/> if the assembly carries Coyote's rewriting signature.</returns>
    public static bool IsRewritten(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.Assembly.GetCustomAttributesData()
            .Any(a => a.AttributeType.FullName == "Microsoft.Coyote.Rewriting.RewritingSignatureAttribute");
    }

    /// <summary>Runs Coyote's engine once on an empty scenario, so that the first systematic test of a run does not pay
    /// for loading and compiling the engine: on the stubs, every test must fail within milliseconds. Call it from the
    /// fixture's <c>[OneTimeSetUp]</c>.</summary>
    public static void WarmUp()
    {
        using var engine = TestingEngine.Create(
            Configuration.Create().WithTestingIterations(1).WithTelemetryEnabled(false).WithVerbosityEnabled(VerbosityLevel.None),
            async () => await Task.Yield());
        TextWriter console = Console.Out;
        Console.SetOut(TextWriter.Null);
        try
        {
            engine.Run();
        }
        finally
        {
            Console.SetOut(console);
        }
    }

    /// <summary>
    /// Explores up to <paramref name="iterations"/> schedules of <paramref name="scenario"/> and fails the test with
    /// the first schedule that breaks it, printed as a step table, with the seed that replays it.
    /// </summary>
    /// <param name="name">What the scenario does, e.g. "two takers wait, one putter puts two items".</param>
    /// <param name="iterations">How many schedules to explore (at most); fixed per test, so that runs are
    /// reproducible. <c>KATA_COYOTE_ITERATIONS</c> replaces it.</param>
    /// <param name="ifStuck">What a deadlock most likely means, in the learner's terms: printed when every thread of
    /// a schedule is blocked.</param>
    /// <param name="scenario">The scenario: starts its threads with <see cref="ScheduleLog.Start"/>, waits for them
    /// with <see cref="ScheduleLog.AllFinish"/>, checks its invariants with <see cref="ScheduleLog.Require"/>.</param>
    /// <param name="learnerTypes">A type from each learner assembly the scenario calls, to check that it was
    /// rewritten.</param>
    /// <param name="ifThrows">What an exception thrown by the learner's code most likely means in this scenario, if
    /// there is a likely cause; printed under the exception.</param>
    /// <param name="raceChecking">Also let Coyote switch threads at every read and write of a field, which finds
    /// lost updates in code that touches shared state without a lock. More schedules are needed, each is longer.</param>
    public static void Explore(
        string name,
        uint iterations,
        string ifStuck,
        Func<ScheduleLog, Task> scenario,
        Type[] learnerTypes,
        string? ifThrows = null,
        bool raceChecking = false)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(learnerTypes);
        var log = new ScheduleLog();

        // On the stubs, the first call throws NotImplementedException: say which step to implement, at once.
        string[] notRewritten = learnerTypes.Append(scenario.Method.DeclaringType ?? typeof(Systematic)).Append(typeof(Systematic))
            .Where(t => !IsRewritten(t))
            .Select(t => t.Assembly.GetName().Name + ".dll")
            .Distinct(StringComparer.Ordinal)
            .ToArray();

        uint count = IterationsOverride ?? iterations;
        Configuration configuration = Configuration.Create()
            .WithTestingIterations(count)
            .WithRandomGeneratorSeed(Seed)
            .WithMemoryAccessRaceCheckingEnabled(raceChecking)
            .WithVolatileOperationRaceCheckingEnabled(raceChecking)
            .WithPartiallyControlledConcurrencyAllowed(false)
            .WithTelemetryEnabled(false)
            .WithConsoleLoggingEnabled(false)
            .WithVerbosityEnabled(VerbosityLevel.None);

        if (notRewritten.Length > 0)
        {
            Assert.Fail(
                $"Systematic testing needs assemblies rewritten by `coyote rewrite`, and {string.Join(", ", notRewritten)} " +
                "is not: Coyote would control nothing, miss bugs and report deadlocks that are not there. The test build " +
                "rewrites them (tests/Directory.Build.targets, target KataCoyoteRewrite); run `dotnet test` on the test " +
                "project, or `dotnet build` it, instead of running an old test output.");
        }

        var clock = Stopwatch.StartNew();
        using var engine = TestingEngine.Create(configuration, async () =>
        {
            try
            {
                await scenario(log);
            }
            catch (Exception ex) when (log.Remember(ScheduleLog.CurrentThread, ex))
            {
                throw; // never reached: Remember returns false, the filter only records
            }
        });
        uint schedule = 0;
        engine.RegisterStartIterationCallBack(iteration =>
        {
            schedule = iteration + 1;
            log.Clear();
        });
        // Coyote prints a line per iteration on the console whatever its verbosity: keep it out of the test's output.
        // A time budget below the test's deadline: an engine still running on an abandoned test thread would slow every
        // later test. Correct code may run out of it on a very slow machine (the test then passes, and says so); the
        // iteration counts are chosen so that wrong code fails within the first few dozen schedules.
        TimeSpan budget = Deadlines.SystematicTest * 0.7;
        bool outOfTime = false;
        TextWriter console = Console.Out;
        Console.SetOut(TextWriter.Null);
        using (var stopper = new Timer(_ => { outOfTime = true; engine.Stop(); }, null, budget, Timeout.InfiniteTimeSpan))
        {
            try
            {
                engine.Run();
            }
            finally
            {
                Console.SetOut(console);
            }
        }

        clock.Stop();

        TestReport report = engine.TestReport;
        TestContext.Out.WriteLine(
            $"Systematic: \"{name}\": {report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths} schedules explored in {clock.Elapsed.TotalSeconds:0.0} s " +
            $"(seed {Seed}), {report.NumOfFoundBugs} bugs.");
        if (report.NumOfFoundBugs == 0)
        {
            if (outOfTime)
            {
                TestContext.Out.WriteLine(
                    $"Systematic: the time budget ({Deadlines.Describe(budget)}) ran out before all {count} schedules were explored: " +
                    "this machine is slow or busy. No explored schedule failed.");
            }

            return;
        }

        (string Thread, Exception Exception)? failure = log.FirstFailure;
        if (failure is { Exception: NotImplementedException notYet })
        {
            // A stub: the learner needs the step to implement, not a schedule.
            ExceptionDispatchInfo.Capture(notYet).Throw();
        }

        string bug = (report.BugReports.FirstOrDefault() ?? "(no report)").Split('\n')[0].Trim();
        var message = new StringBuilder();
        message.AppendLine(CultureInfo.InvariantCulture, $"Systematic testing broke \"{name}\" in schedule {schedule} of {count} (seed {Seed}).");
        if (failure is ({ } thread, ScheduleRuleBrokenException broken))
        {
            message.AppendLine(CultureInfo.InvariantCulture, $"Broken rule (checked on {thread}): {broken.Message}");
        }
        else if (failure is ({ } thrower, { } exception))
        {
            message.AppendLine(CultureInfo.InvariantCulture, $"{thrower} threw {exception.GetType().Name}: {exception.Message}");
            message.AppendLine(CultureInfo.InvariantCulture, $"  at {FirstLearnerFrame(exception)}");
            if (ifThrows is not null)
            {
                message.AppendLine(CultureInfo.InvariantCulture, $"Likely cause: {ifThrows}");
            }
        }
        else if (bug.Contains("Deadlock", StringComparison.OrdinalIgnoreCase))
        {
            message.AppendLine(CultureInfo.InvariantCulture, $"Deadlock: every thread is blocked and none can wake another. {ifStuck}");
        }
        else
        {
            message.AppendLine(CultureInfo.InvariantCulture, $"Coyote reports: {bug}");
        }

        message.AppendLine();
        message.AppendLine("The schedule that breaks it, step by step (only one thread runs at a time; read top to bottom):");
        message.Append(log.ToTable());
        message.AppendLine();
        message.AppendLine(CultureInfo.InvariantCulture, $"Coyote's own report: {bug}");
        message.AppendLine(CultureInfo.InvariantCulture,
            $"Replay exactly this run: {SeedVariable}={Seed} {IterationsVariable}={count} dotnet test --filter \"FullyQualifiedName~{TestContext.CurrentContext.Test.MethodName}\"");
        message.AppendLine("(The same seed explores the same schedules in the same order, every time, on every machine.)");
        Assert.Fail(message.ToString());
    }

    /// <summary>Runs <paramref name="bookkeeping"/> (a test hook's own records) without scheduling points: with race
    /// checking on, Coyote would otherwise also switch threads at the hook's field accesses, which only makes every
    /// schedule longer.</summary>
    /// <param name="bookkeeping">Code that touches only the test's own state.</param>
    public static void Quietly(Action bookkeeping)
    {
        ArgumentNullException.ThrowIfNull(bookkeeping);
        Microsoft.Coyote.Runtime.SchedulingPoint.Suppress();
        try
        {
            bookkeeping();
        }
        finally
        {
            Microsoft.Coyote.Runtime.SchedulingPoint.Resume();
        }
    }

    private static string FirstLearnerFrame(Exception exception)
    {
        string[] lines = (exception.StackTrace ?? "").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string? learner = lines.FirstOrDefault(l => l.Contains("ConcurrencyKata.", StringComparison.Ordinal)
            && !l.Contains("ConcurrencyKata.TestSupport", StringComparison.Ordinal)
            && !l.Contains("ConcurrencyKata.Tests", StringComparison.Ordinal));
        return (learner ?? lines.FirstOrDefault() ?? "(no stack trace)").Replace("at ", "", StringComparison.Ordinal);
    }
}
