using System.Text.RegularExpressions;

namespace Glassbox.Loading;

/// <summary>
/// Finds a Hugging Face hub model (<c>org/name</c>, or a bare canonical name such as <c>gpt2</c>) already downloaded into
/// the local hub cache, offline: <c>{root}/models--org--name/snapshots/{revision}/</c>, the revision that
/// <c>refs/main</c> names when that snapshot exists, else the only or newest snapshot. Snapshot files are usually
/// symbolic links into <c>../../blobs</c>; reading them follows the links, and a link to a missing blob (an interrupted
/// download) is an error naming both. Glassbox never downloads.
/// </summary>
public static partial class HubCache
{
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")]
    private static partial Regex IdPattern();

    /// <summary>Whether <paramref name="text"/> has the form of a hub model id (one or two name segments, no path syntax).</summary>
    public static bool IsHubId(string text) => IdPattern().IsMatch(text) && !text.Contains("..");

    /// <summary>
    /// The cache root huggingface_hub uses: <c>$HF_HUB_CACHE</c> (or its older name <c>$HUGGINGFACE_HUB_CACHE</c>), else
    /// <c>$HF_HOME/hub</c>, else <c>$XDG_CACHE_HOME/huggingface/hub</c>, else <c>~/.cache/huggingface/hub</c>; with the variable that chose it.
    /// </summary>
    public static (string Root, string Source) DefaultRoot()
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        if (Env("HF_HUB_CACHE") is { } hub) return (hub, "$HF_HUB_CACHE");
        if (Env("HUGGINGFACE_HUB_CACHE") is { } legacy) return (legacy, "$HUGGINGFACE_HUB_CACHE");
        if (Env("HF_HOME") is { } home) return (Path.Combine(home, "hub"), "$HF_HOME/hub");
        if (Env("XDG_CACHE_HOME") is { } xdg) return (Path.Combine(xdg, "huggingface", "hub"), "$XDG_CACHE_HOME/huggingface/hub");
        return (Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface", "hub"), "the default ~/.cache/huggingface/hub");
    }

    /// <summary>
    /// The snapshot directory of <paramref name="id"/> under <paramref name="root"/>, or null when the cache does not hold it;
    /// <paramref name="looked"/> gets each place examined and what was (not) there.
    /// </summary>
    public static string? TryResolve(string id, string root, List<string> looked)
    {
        var repo = Path.Combine(root, "models--" + id.Replace("/", "--"));
        var snapshots = Path.Combine(repo, "snapshots");
        if (!Directory.Exists(snapshots))
        {
            looked.Add($"{snapshots} ({(Directory.Exists(repo) ? "the model folder has no snapshots" : "not there")})");
            return null;
        }
        var refMain = Path.Combine(repo, "refs", "main");
        if (File.Exists(refMain))
        {
            var revision = File.ReadAllText(refMain).Trim();
            var named = Path.Combine(snapshots, revision);
            if (revision.Length > 0 && IsHubId(revision) && Directory.Exists(named)) return Checked(named);
            looked.Add($"{named} (named by refs/main; not there)");
        }
        var newest = new DirectoryInfo(snapshots).GetDirectories().OrderByDescending(d => d.LastWriteTimeUtc).ThenBy(d => d.Name, StringComparer.Ordinal).FirstOrDefault();
        if (newest is null) looked.Add($"{snapshots} (no snapshot in it)");
        return newest is null ? null : Checked(newest.FullName);
    }

    /// <summary><see cref="TryResolve"/>, or an error listing every place it looked.</summary>
    public static string Resolve(string id, string root)
    {
        var looked = new List<string>();
        return TryResolve(id, root, looked) ?? throw NotFound(id, looked, root);
    }

    internal static ModelFormatException NotFound(string id, IEnumerable<string> looked, string root) => new(
        $"'{id}' is not a path on disk and not in the local Hugging Face hub cache ({root}). Looked in: {string.Join("; ", looked)}. " +
        "Glassbox never downloads: fetch it first (e.g. `huggingface-cli download " + id + "`), or set HF_HUB_CACHE or HF_HOME to the cache that holds it.");

    /// <summary>The snapshot, refusing one whose links point at blobs that are not there (an incomplete download).</summary>
    static string Checked(string snapshot)
    {
        foreach (var file in new DirectoryInfo(snapshot).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            if (file.LinkTarget is null) continue;
            var target = file.ResolveLinkTarget(returnFinalTarget: true);
            if (target is null || !target.Exists)
                throw new ModelFormatException($"{file.FullName} links to {target?.FullName ?? file.LinkTarget}, which is missing: the download of this snapshot is incomplete.");
        }
        return snapshot;
    }
}
