using Glassbox.Loading;

namespace Glassbox.Web;

/// <summary>
/// The directories a client may load models from. Every path a request names is resolved (symbolic links
/// included) and must lie inside one of them, so the API cannot be used to read arbitrary files.
/// </summary>
public sealed class ModelRoots
{
    readonly string[] roots;

    public ModelRoots(IEnumerable<string> roots)
    {
        this.roots = roots.Select(r => Resolve(Path.GetFullPath(r))).Distinct().ToArray();
        foreach (var r in this.roots)
            if (!Directory.Exists(r)) throw new GlassboxException($"Model root '{r}' is not a directory.");
    }

    public IReadOnlyList<string> Directories => roots;

    /// <summary>
    /// The resolved full path of <paramref name="path"/> (relative paths are relative to the first root), or 403 when it is
    /// outside every root. A hub id (<c>org/name</c>) that is no path under the first root names its snapshot in the local
    /// Hugging Face hub cache: a downloaded model, never an arbitrary file.
    /// </summary>
    public string Check(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ApiException(400, "path is empty.");
        var candidate = Path.GetFullPath(path, roots[0]);
        if (!Directory.Exists(candidate) && !File.Exists(candidate) && HubCache.IsHubId(path))
        {
            var (hub, _) = HubCache.DefaultRoot();
            var looked = new List<string>();
            return HubCache.TryResolve(path, hub, looked) ?? throw new ApiException(404, $"No model at '{path}' under the roots, nor in the hub cache ({string.Join("; ", looked)}).");
        }
        var full = Resolve(candidate);
        if (!roots.Any(r => full == r || full.StartsWith(r + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
            throw new ApiException(403, $"'{path}' is outside the model roots ({string.Join(", ", roots)}).");
        if (!Directory.Exists(full) && !File.Exists(full)) throw new ApiException(404, $"No model at '{path}'.");
        return full;
    }

    /// <summary>Hugging Face model directories (a config.json) at most two levels below each root.</summary>
    public IReadOnlyList<string> FindModels() =>
        roots.SelectMany(r => new[] { r }.Concat(SafeSubdirectories(r)).Concat(SafeSubdirectories(r).SelectMany(SafeSubdirectories)))
            .Where(d => File.Exists(Path.Combine(d, "config.json")))
            .Distinct().Order(StringComparer.Ordinal).ToArray();

    static IEnumerable<string> SafeSubdirectories(string dir)
    {
        try { return Directory.GetDirectories(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    /// <summary>Follows symbolic links in every component, so a link inside a root cannot point outside it.</summary>
    static string Resolve(string full)
    {
        var parts = new List<string>();
        string current = full;
        while (true)
        {
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.Exists && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
                return Path.Combine([Resolve(target.FullName), .. Enumerable.Reverse(parts)]);
            var parent = Path.GetDirectoryName(current);
            if (parent is null) return full;
            parts.Add(Path.GetFileName(current));
            current = parent;
        }
    }
}
