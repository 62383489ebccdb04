using System.Globalization;
using Glassbox.Bench;
using Glassbox.Bench.Suites;

namespace Glassbox.Tests.Bench;

/// <summary>Smoke test of the mechanisms suite in quick mode: the report's ratio row is a finite positive number (never a timing bound).</summary>
public class MechanismsSuiteTests
{
    [Fact]
    public void QuickMechanismsSuiteReportsAFinitePositiveRatio()
    {
        var output = new StringWriter();
        Assert.Equal(0, BenchRunner.Run(["mechanisms", "--quick"], output, TextWriter.Null));
        string report = output.ToString();
        Assert.Contains("## mechanisms", report);
        var row = report.Split('\n').Single(l => l.StartsWith($"| {MechanismsSuite.ReportRatio} "));
        double ratio = double.Parse(row.Trim('|', ' ').Split('|')[1], CultureInfo.InvariantCulture);
        Assert.True(double.IsFinite(ratio) && ratio > 1, $"ratio {ratio}");
    }
}
