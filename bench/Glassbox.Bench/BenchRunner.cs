using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using Glassbox.Bench.Harness;
using static TorchSharp.torch;

namespace Glassbox.Bench;

/// <summary>
/// The command line of the harness: <c>[suite ...] [--quick] [--warmup N] [--reps N]</c>. Prints a Markdown
/// report to <paramref name="output"/> (a header describing machine and command, then one section per
/// suite) and progress to <paramref name="progress"/>. Callable in-process (the tests do).
/// </summary>
public static class BenchRunner
{
    public const string Usage =
        "usage: dotnet run -c Release --project bench/Glassbox.Bench -- [suite ...] [--quick] [--warmup N] [--reps N]\n" +
        "  suite      one or more of the suites below (default: all)\n" +
        "  --quick    tiny model, few repetitions: a smoke test, numbers not meaningful\n" +
        "  --warmup N, --reps N   override the suite's warm-up rounds and timed repetitions";

    public static int Run(string[] args, TextWriter output, TextWriter progress)
    {
        BenchOptions options;
        try { options = Parse(args); }
        catch (ArgumentException e)
        {
            progress.WriteLine(e.Message);
            progress.WriteLine(Usage);
            progress.WriteLine(SuiteList());
            return 2;
        }
        if (options.Suites.Count == 1 && options.Suites[0] == "--help")
        {
            output.WriteLine(Usage);
            output.WriteLine(SuiteList());
            return 0;
        }
        var suites = options.Suites.Count == 0 ? SuiteRegistry.All : options.Suites.Select(n => SuiteRegistry.Find(n)!).ToList();

        // Explicit, so the report states what was used rather than what libtorch guessed.
        set_num_threads(Environment.ProcessorCount);
        var context = new BenchContext(options, output, progress);
        WriteHeader(output, args, suites);
        foreach (var suite in suites)
        {
            context.Log($"suite {suite.Name}");
            output.WriteLine();
            suite.Run(context);
        }
        output.WriteLine();
        output.WriteLine($"Load average at the end: {MachineInfo.LoadAverage()}.");
        output.Flush();
        return 0;
    }

    static BenchOptions Parse(string[] args)
    {
        var names = new List<string>();
        bool quick = false;
        int? warmup = null, reps = null;
        int Int(int i, string flag) =>
            i < args.Length && int.TryParse(args[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0
                ? n : throw new ArgumentException($"{flag} needs a non-negative integer.");
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick": quick = true; break;
                case "--warmup": warmup = Int(++i, "--warmup"); break;
                case "--reps": reps = Int(++i, "--reps"); if (reps == 0) throw new ArgumentException("--reps must be at least 1."); break;
                case "-h" or "--help": return new BenchOptions { Suites = ["--help"] };
                default:
                    if (args[i].StartsWith('-')) throw new ArgumentException($"Unknown option '{args[i]}'.");
                    if (SuiteRegistry.Find(args[i]) is null) throw new ArgumentException($"Unknown suite '{args[i]}'.");
                    names.Add(args[i]);
                    break;
            }
        }
        return new BenchOptions { Suites = names, Quick = quick, Warmup = warmup, Reps = reps };
    }

    static string SuiteList() => "suites:\n" + string.Join("\n", SuiteRegistry.All.Select(s => $"  {s.Name,-16} {s.Description}"));

    static void WriteHeader(TextWriter o, string[] args, IReadOnlyList<ISuite> suites)
    {
        string config =
#if DEBUG
            "Debug (timings are not representative: use -c Release)";
#else
            "Release";
#endif
        var torchVersion = typeof(TorchSharp.torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                           ?? typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString();
        o.WriteLine("# Glassbox benchmarks");
        o.WriteLine();
        var launcher = MachineInfo.LauncherCommandLine();
        if (launcher is not null) o.WriteLine($"- command: `{launcher}`");
        o.WriteLine($"- process: `{MachineInfo.ProcessCommandLine()}`");
        o.WriteLine($"- arguments: `{string.Join(" ", args)}` → suites {string.Join(", ", suites.Select(s => s.Name))}");
        o.WriteLine($"- CPU: {MachineInfo.CpuModel()}, {Environment.ProcessorCount} logical processors; load average at start {MachineInfo.LoadAverage()}");
        o.WriteLine($"- torch threads: {get_num_threads()} (set_num_threads(Environment.ProcessorCount = {Environment.ProcessorCount})), inter-op threads {get_num_interop_threads()}");
        var env = MachineInfo.RelevantEnvironment();
        o.WriteLine($"- environment: {(env.Count == 0 ? "no allocator, threading or libtorch variables set" : string.Join(" ", env.Select(e => $"`{e}`")))}");
        o.WriteLine($"- runtime: .NET {Environment.Version}, {RuntimeInformation.OSDescription}, TorchSharp {torchVersion}, build {config}");
        o.WriteLine($"- date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
    }
}
