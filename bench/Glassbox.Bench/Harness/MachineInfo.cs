using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Glassbox.Bench.Harness;

/// <summary>What the numbers were measured on and how they were launched: printed at the top of every report.</summary>
public static class MachineInfo
{
    public static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal))
                    return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture + " (model unknown: no /proc/cpuinfo)";
    }

    /// <summary>The 1-, 5- and 15-minute load averages: how busy the shared machine was.</summary>
    public static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
        catch (UnauthorizedAccessException) { return "unknown"; }
    }

    /// <summary>This process's own command line (the bench executable and its arguments).</summary>
    public static string ProcessCommandLine() => Quote(ReadCmdline("/proc/self/cmdline") ?? Environment.GetCommandLineArgs());

    /// <summary>The parent's command line when it is <c>dotnet run …</c>, i.e. what the user typed; otherwise null.</summary>
    public static string? LauncherCommandLine()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var parent = ReadCmdline($"/proc/{fields[1]}/cmdline");
            if (parent is null || parent.Length < 2) return null;
            bool dotnetRun = Path.GetFileName(parent[0]) == "dotnet" && parent[1] == "run";
            return dotnetRun ? Quote(parent.Skip(1).Prepend("dotnet").ToArray()) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException) { return null; }
    }

    /// <summary>Environment variables that change allocator, threading or libtorch behaviour, as NAME=value (empty when none is set).</summary>
    public static IReadOnlyList<string> RelevantEnvironment() =>
        Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("MALLOC_", StringComparison.Ordinal) || k.StartsWith("OMP_", StringComparison.Ordinal) ||
                        k.StartsWith("MKL_", StringComparison.Ordinal) || k.StartsWith("GLIBC_TUNABLES", StringComparison.Ordinal) ||
                        k.StartsWith("THP_", StringComparison.Ordinal) || k.StartsWith("GLASSBOX_", StringComparison.Ordinal) ||
                        k == "LD_PRELOAD" || k == "DOTNET_gcServer")
            .OrderBy(k => k, StringComparer.Ordinal)
            .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}")
            .ToList();

    public static long PeakRss { get { using var p = Process.GetCurrentProcess(); return p.PeakWorkingSet64; } }
    public static long CurrentRss { get { using var p = Process.GetCurrentProcess(); return p.WorkingSet64; } }

    static string[]? ReadCmdline(string path)
    {
        try
        {
            var raw = File.ReadAllBytes(path);
            if (raw.Length == 0) return null;
            return Encoding.UTF8.GetString(raw).TrimEnd('\0').Split('\0');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    static string Quote(IEnumerable<string> args) =>
        string.Join(" ", args.Select(a => a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./=:,+@".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'"));
}
