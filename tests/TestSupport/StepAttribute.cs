namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Tags a test fixture (or test) with the exercise step it grades, as the NUnit category <c>StepN</c>, so that
/// Test Explorer groups by it and <c>dotnet test --filter TestCategory=Step2</c> runs one step.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class StepAttribute : CategoryAttribute
{
    /// <summary>Tags with step <paramref name="number"/>.</summary>
    /// <param name="number">The step's number in the exercise README, from 1.</param>
    public StepAttribute(int number)
        : base("Step" + number.ToString(System.Globalization.CultureInfo.InvariantCulture))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1);
        Number = number;
    }

    /// <summary>The step's number.</summary>
    public int Number { get; }
}
