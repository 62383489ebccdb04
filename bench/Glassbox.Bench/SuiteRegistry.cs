using Glassbox.Bench.Harness;
using Glassbox.Bench.Suites;

namespace Glassbox.Bench;

/// <summary>Every suite by name, in the order a run without a suite name runs them. A new suite is one file plus one line here.</summary>
public static class SuiteRegistry
{
    public static IReadOnlyList<ISuite> All { get; } =
    [
        new RuntimeSuite(),
        new RuntimeProfileSuite(),
        new TrainingSuite(),
        new LensSuite(),
        new AttributionSuite(),
        new SaeSuite(),
        new MechanismsSuite(),
        new CircuitsSuite(),
        new FamiliesSuite(),
    ];

    public static ISuite? Find(string name) => All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
}
