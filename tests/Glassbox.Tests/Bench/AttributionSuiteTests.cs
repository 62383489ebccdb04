using Glassbox.Bench;
using Glassbox.Bench.Suites;

namespace Glassbox.Tests.Bench;

/// <summary>Smoke test of the attribution suite in quick mode: every method gets a row and the IG ratio is a positive number.</summary>
public class AttributionSuiteTests
{
    [Fact]
    public void QuickAttributionSuiteTimesEveryMethod()
    {
        var output = new StringWriter();
        Assert.Equal(0, BenchRunner.Run(["attribution", "--quick"], output, TextWriter.Null));
        string report = output.ToString();
        foreach (var name in Glassbox.Attribution.AttributionMethods.Names) Assert.Contains($"| {name} ", report);
        var ratio = report.Split('\n').Single(l => l.StartsWith(AttributionSuite.IgRatio));
        Assert.True(double.Parse(ratio[(AttributionSuite.IgRatio.Length + 2)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Contains("peak RSS after", report);
    }
}
