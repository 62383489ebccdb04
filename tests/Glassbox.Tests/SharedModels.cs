namespace Glassbox.Tests;

/// <summary>
/// Locates the real models and corpora that live beside the repository in <c>../shared</c>
/// (override with GLASSBOX_SHARED). Tests that need them use <see cref="SharedFactAttribute"/>,
/// which skips with a message where the folder is absent (a user's own clone).
/// </summary>
public static class SharedModels
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string? SharedDir { get; } = FindShared();

    public static string Path(params string[] parts) =>
        System.IO.Path.Combine(new[] { SharedDir ?? throw new InvalidOperationException("../shared is absent") }.Concat(parts).ToArray());

    public static string Stories260K => Path("models", "stories260K", "stories260K.bin");
    public static string Stories260KTokenizer => Path("models", "stories260K", "tok512.bin");

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Glassbox.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (Glassbox.sln) above " + AppContext.BaseDirectory);
    }

    static string? FindShared()
    {
        var env = Environment.GetEnvironmentVariable("GLASSBOX_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        var beside = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepoRoot, "..", "shared"));
        return Directory.Exists(System.IO.Path.Combine(beside, "models")) ? beside : null;
    }
}

/// <summary>A fact that needs <c>../shared</c>; skipped, saying why, where it is absent.</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute()
    {
        if (SharedModels.SharedDir == null) Skip = "../shared/models is absent (set GLASSBOX_SHARED to run this test)";
    }
}
