using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;
using NUnit.Framework.Internal.Commands;

// In the tests' enclosing namespace on purpose: inside namespace ConcurrencyKata.Tests.*, `[Test]` finds this type
// before NUnit's (enclosing namespaces win over using directives), so every kata test gets a deadline without
// anyone having to remember it. ConcurrencyTest's set-up fails any test that runs without one.
namespace ConcurrencyKata.Tests;

/// <summary>
/// NUnit's <c>[Test]</c>, plus a whole-test deadline: set-up, test and tear-down run on a dedicated background
/// thread, and if they are not done within <see cref="TestSupport.Deadlines.WholeTest"/> the test fails with a
/// named diagnosis and that thread is abandoned. This is what keeps a call that blocks on the test's own thread
/// (a Put into a queue that wrongly thinks it is full, a Dispose that joins a stuck worker) from hanging the run.
/// NUnit's own <c>[Timeout]</c> cannot do this on .NET, and <c>[CancelAfter]</c> cannot stop a blocked thread.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class TestAttribute : NUnit.Framework.TestAttribute, IWrapSetUpTearDown
{
    /// <inheritdoc/>
    public TestCommand Wrap(TestCommand command) => new TestSupport.DeadlineCommand(command);
}
