using System.Diagnostics;

namespace Glassbox.Bench.Harness;

/// <summary>
/// One thing to time: a name and an action that does one repetition (and cleans up after itself);
/// <paramref name="Before"/>, if given, runs untimed before each repetition (e.g. to set the thread count).
/// </summary>
public sealed record Variant(string Name, Action Run, Action? Before = null);

/// <summary>
/// One repetition: wall-clock milliseconds; CPU milliseconds the whole process used meanwhile (all threads,
/// user + system); and milliseconds this process's threads spent runnable but waiting for a CPU (the
/// kernel's run-queue delay, /proc/self/task/*/schedstat): time other processes took from us; and the
/// minor page faults the process took (first touches of memory the allocator got fresh from the kernel).
/// </summary>
public readonly record struct Sample(double WallMs, double CpuMs, double WaitMs, long PageFaults = 0)
{
    /// <summary>Run-queue wait per wall-clock millisecond, summed over our threads: near 0 on an idle machine.</summary>
    public double Contention => WaitMs / WallMs;

    /// <summary>
    /// At most this contention makes a sample "quiet". On the shared 2-core machine samples are bimodal:
    /// a few percent when the machine is ours, 50–200% (and 2–5× the wall time) when other processes run.
    /// </summary>
    public const double QuietContention = 0.10;

    public bool Quiet => Contention <= QuietContention;
}

/// <summary>The samples of one variant in the order they were taken: round i of every variant is index i.</summary>
public sealed record Timing(string Name, IReadOnlyList<Sample> Samples)
{
    public IReadOnlyList<double> SamplesMs => Samples.Select(s => s.WallMs).ToList();
    public double MedianMs => Stats.Median(SamplesMs);
    public double MinMs => SamplesMs.Min();
    public double MaxMs => SamplesMs.Max();
    public double CpuMedianMs => Stats.Median(Samples.Select(s => s.CpuMs).ToList());
    public double MedianContention => Stats.Median(Samples.Select(s => s.Contention).ToList());
    public double MedianPageFaults => Stats.Median(Samples.Select(s => (double)s.PageFaults).ToList());

    public int QuietCount => Samples.Count(s => s.Quiet);

    /// <summary>
    /// The median wall time of the quiet samples: the estimate of what this variant costs on an idle machine;
    /// the minimum where no sample was quiet (<see cref="QuietCount"/> says which).
    /// </summary>
    public double QuietMs => QuietCount > 0 ? Stats.Median(Samples.Where(s => s.Quiet).Select(s => s.WallMs).ToList()) : MinMs;

    /// <summary>The median over rounds of this variant's time divided by the baseline's time in the same round.</summary>
    public double PairedRatio(Timing baseline) => Paired(baseline, (x, b) => x / b);

    /// <summary>The median over rounds of f(this variant's ms, the other's ms in the same round).</summary>
    public double Paired(Timing other, Func<double, double, double> f) =>
        Stats.Median(SamplesMs.Zip(other.SamplesMs, f).ToList());
}

/// <summary>
/// The timer of every suite. Variants that are compared are timed in the same loop, one repetition
/// of each per round, so that drift (other processes on a shared machine, thermal state, the
/// allocator's state) hits all of them alike; the starting variant rotates each round (A B C, B C A,
/// C A B, …) so that none is always timed right after the same neighbour. Warm-up rounds run first and
/// are discarded. Each sample also records how long our threads waited for a CPU (see <see cref="Sample"/>);
/// with <paramref name="minQuiet"/>, rounds continue past <paramref name="reps"/> (up to <paramref name="maxReps"/>)
/// until every variant has that many quiet samples, so that a busy machine costs time rather than accuracy.
/// </summary>
public static class Measure
{
    public static IReadOnlyList<Timing> Interleaved(int warmup, int reps, IReadOnlyList<Variant> variants, Action<string>? progress = null,
        int minQuiet = 0, int? maxReps = null)
    {
        if (variants.Count == 0) throw new ArgumentException("Nothing to measure.", nameof(variants));
        if (reps < 1) throw new ArgumentOutOfRangeException(nameof(reps), reps, "At least one repetition.");
        if (variants.Select(v => v.Name).Distinct().Count() != variants.Count) throw new ArgumentException("Variant names must be distinct.", nameof(variants));

        var samples = variants.Select(_ => new List<Sample>(reps)).ToArray();
        var line = new string[variants.Count];
        int limit = Math.Max(reps, maxReps ?? reps);
        for (int round = -warmup; round < reps || (round < limit && samples.Any(v => v.Count(x => x.Quiet) < minQuiet)); round++)
        {
            for (int j = 0; j < variants.Count; j++)
            {
                int i = ((round % variants.Count) + variants.Count + j) % variants.Count;
                variants[i].Before?.Invoke();
                var s = One(variants[i].Run);
                if (round >= 0) samples[i].Add(s);
                line[i] = $"{variants[i].Name} {s.WallMs:F1}/{s.CpuMs:F0}/{s.WaitMs:F0}";
            }
            progress?.Invoke((round < 0 ? $"warm-up {round + warmup + 1}/{warmup}" : $"round {round + 1}/{reps}{(round >= reps ? $" (extra, for {minQuiet} quiet samples each)" : "")}") +
                             " (wall/cpu/wait ms): " + string.Join(", ", line));
        }
        return variants.Select((v, i) => new Timing(v.Name, samples[i])).ToList();
    }

    /// <summary>Times one call: wall clock, process CPU, and our threads' run-queue wait.</summary>
    public static Sample One(Action action)
    {
        double wait0 = RunQueueWaitMs();
        long faults0 = MinorFaults();
        var cpu0 = ProcessCpu();
        long start = Stopwatch.GetTimestamp();
        action();
        double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        double cpu = (ProcessCpu() - cpu0).TotalMilliseconds;
        long faults = MinorFaults() - faults0;
        return new Sample(wall, cpu, Math.Max(0, RunQueueWaitMs() - wait0), faults);
    }

    /// <summary>The process's minor page faults so far (field 10 of /proc/self/stat; 0 where unavailable).</summary>
    public static long MinorFaults()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[7]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { return 0; }
    }

    /// <summary>Wall-clock milliseconds of one call.</summary>
    public static double Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    static TimeSpan ProcessCpu() { using var p = Process.GetCurrentProcess(); return p.TotalProcessorTime; }

    /// <summary>Sum over this process's threads of the time spent runnable but not running (0 where /proc is unavailable).</summary>
    static double RunQueueWaitMs()
    {
        double ns = 0;
        try
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try
                {
                    var fields = File.ReadAllText(Path.Combine(dir, "schedstat")).Split(' ');
                    if (fields.Length >= 2 && double.TryParse(fields[1], out double wait)) ns += wait;
                }
                catch (IOException) { } // the thread exited meanwhile
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return ns / 1e6;
    }
}

public static class Stats
{
    public static double Median(IReadOnlyList<double> xs)
    {
        if (xs.Count == 0) throw new ArgumentException("No samples.", nameof(xs));
        var s = xs.OrderBy(x => x).ToArray();
        int n = s.Length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
