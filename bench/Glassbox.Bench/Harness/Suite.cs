namespace Glassbox.Bench.Harness;

/// <summary>What a run was asked for: the suites, quick mode, and optional overrides of the repetition counts.</summary>
public sealed record BenchOptions
{
    public IReadOnlyList<string> Suites { get; init; } = [];
    /// <summary>A tiny model and few repetitions: seconds, for smoke tests. Numbers are not meaningful.</summary>
    public bool Quick { get; init; }
    public int? Warmup { get; init; }
    public int? Reps { get; init; }

    /// <summary>The suite's defaults for this mode, unless overridden on the command line.</summary>
    public (int Warmup, int Reps) Repetitions((int Warmup, int Reps) quick, (int Warmup, int Reps) full)
    {
        var d = Quick ? quick : full;
        return (Warmup ?? d.Warmup, Reps ?? d.Reps);
    }
}

/// <summary>What a suite gets: the options, the Markdown output, and a progress log (stderr; not part of the report).</summary>
public sealed class BenchContext(BenchOptions options, TextWriter output, TextWriter progress)
{
    public BenchOptions Options { get; } = options;
    public TextWriter Out { get; } = output;
    public bool Quick => Options.Quick;

    public void Log(string message)
    {
        progress.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");
        progress.Flush();
    }
}

/// <summary>
/// One benchmark concern (runtime, attribution, patching, sae, …): one file under Suites/, registered by
/// name in <see cref="SuiteRegistry"/>. A suite writes one Markdown section (a <c>##</c> heading, its setup, its tables).
/// </summary>
public interface ISuite
{
    string Name { get; }
    string Description { get; }
    void Run(BenchContext context);
}
