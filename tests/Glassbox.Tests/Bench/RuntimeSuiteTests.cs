using System.Globalization;
using Glassbox.Bench;
using Glassbox.Bench.Suites;

namespace Glassbox.Tests.Bench;

/// <summary>
/// Smoke test of the benchmark harness: the runtime suite in quick mode (tiny model, few repetitions),
/// in-process. Checks the report's shape and that every number is finite and positive; never timings.
/// </summary>
public class RuntimeSuiteTests
{
    [Fact]
    public void QuickRuntimeSuiteReportsEveryRowWithFinitePositiveNumbers()
    {
        var output = new StringWriter();
        int exit = BenchRunner.Run(["runtime", "--quick"], output, TextWriter.Null);
        string report = output.ToString();

        Assert.Equal(0, exit);
        Assert.Contains("- torch threads: ", report);
        Assert.Contains("- CPU: ", report);
        Assert.Contains("- arguments: `runtime --quick`", report);
        Assert.Contains("## runtime", report);

        var rows = TableRows(report);
        // Metric rows: median, min and quiet always numbers; ratio rows also the paired ratio.
        foreach (var metric in new[] { RuntimeSuite.Throughput, RuntimeSuite.ModelRate, RuntimeSuite.MatmulRate })
            AssertPositive(rows, metric, 1, 2, 4);
        foreach (var metric in new[] { RuntimeSuite.CacheRatio, RuntimeSuite.HookAllRatio, RuntimeSuite.HookDefaultRatio, RuntimeSuite.FlopRatio })
            AssertPositive(rows, metric, 1, 2, 3, 4);
        // Timings: median, min, max, quiet median, CPU ms (contention and quiet count may be 0).
        foreach (var variant in new[] { "forward", "RunWithCache", "no-op hook, every point", "no-op hook, default points", "matmul 256×256" })
            AssertPositive(rows, variant, 1, 2, 3, 4, 5);
        // Memory: before, after 10, after 50.
        foreach (var memory in new[] { RuntimeSuite.RssCurrent, RuntimeSuite.RssPeak })
            AssertPositive(rows, memory, 1, 2, 3);
        // TorchSharp counts live tensors per thread; in this process other tests' tensors created on one pool thread and disposed
        // on another move the count either way, so only the bench's own process gives it an absolute meaning. Here: whole numbers.
        Assert.All(rows[RuntimeSuite.LiveTensors][1..4], cell => Assert.True(long.TryParse(cell, out _), $"live tensors '{cell}'"));
    }

    [Fact]
    public void QuickTrainingSuiteReportsEveryRecipeWithFinitePositiveNumbers()
    {
        var output = new StringWriter();
        Assert.Equal(0, BenchRunner.Run(["training", "--quick"], output, TextWriter.Null));
        var rows = TableRows(output.ToString());
        foreach (var recipe in new[] { "attn-only-2l", "ioi-gpt2-4l", "ioi-llama-4l" })
            AssertPositive(rows, recipe, 2, 3, 4, 5);
    }

    [Fact]
    public void QuickLensSuiteReportsTrainingAndForwardRates()
    {
        var output = new StringWriter();
        Assert.Equal(0, BenchRunner.Run(["lens", "--quick"], output, TextWriter.Null));
        var rows = TableRows(output.ToString());
        AssertPositive(rows, LensSuite.Forward, 1, 2, 3);
        AssertPositive(rows, LensSuite.Training, 1, 2, 3);
        AssertPositive(rows, LensSuite.Ratio, 1);
    }

    [Fact]
    public void QuickSaeSuiteReportsTrainingStoreAndScanThroughput()
    {
        var output = new StringWriter();
        Assert.Equal(0, BenchRunner.Run(["sae", "--quick"], output, TextWriter.Null));
        var rows = TableRows(output.ToString());
        AssertPositive(rows, SaeSuite.Training, 1, 2, 3, 4);
        AssertPositive(rows, SaeSuite.Store, 1, 2);
        AssertPositive(rows, SaeSuite.Scan, 1, 2);
    }

    /// <summary>Every Markdown table row of the report by its first cell (separator rows left out); labels are unique across tables.</summary>
    static Dictionary<string, string[]> TableRows(string report) =>
        report.Split('\n')
            .Where(l => l.StartsWith('|'))
            .Select(l => l.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray())
            .Where(cells => cells[0].Any(c => c != '-'))
            .ToDictionary(cells => cells[0], cells => cells);

    static void AssertPositive(Dictionary<string, string[]> rows, string label, params int[] columns)
    {
        Assert.True(rows.TryGetValue(label, out var cells), $"The report has no row '{label}'. Rows: {string.Join("; ", rows.Keys)}");
        foreach (int c in columns)
        {
            Assert.True(double.TryParse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture, out double x), $"'{label}' column {c}: '{cells[c]}' is not a number");
            Assert.True(double.IsFinite(x) && x > 0, $"'{label}' column {c}: {x} is not finite and positive");
        }
    }
}
