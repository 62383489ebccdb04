using Glassbox.Bench;
using Glassbox.Bench.Suites;

namespace Glassbox.Tests.Bench;

/// <summary>Smoke test of the circuits bench suite in quick mode: every row present with a finite positive number; never timings.</summary>
public class CircuitsSuiteTests
{
    [Fact]
    public void QuickCircuitsSuiteReportsEveryRow()
    {
        var output = new StringWriter();
        Assert.Equal(0, BenchRunner.Run(["circuits", "--quick"], output, TextWriter.Null));
        string report = output.ToString();
        Assert.Contains("## circuits", report);
        foreach (var metric in new[] { CircuitsSuite.AtPSpeedup, CircuitsSuite.AcdcOverEap, CircuitsSuite.AcdcOverEapIg, CircuitsSuite.AcdcOverRoutes, CircuitsSuite.RoutesOverForward })
        {
            var row = report.Split('\n').Single(l => l.Split('|').Length > 2 && l.Split('|')[1].Trim() == metric);
            double value = double.Parse(row.Split('|')[2].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(double.IsFinite(value) && value > 0, row);
        }
        Assert.Contains("edges/s", report);
    }
}
