using System.Text.RegularExpressions;

namespace Glassbox.Hooks;

/// <summary>
/// All hook points of a model by name, in forward order. Resolves names and globs, reports unknown
/// names with their closest matches, and hands out registrations that remove themselves on dispose.
/// </summary>
public sealed class HookRegistry
{
    readonly Dictionary<string, HookPoint> byName = new(StringComparer.Ordinal);
    readonly List<HookPoint> ordered = new();

    public IReadOnlyList<HookPoint> Points => ordered;

    internal HookPoint Create(string name, string shape, int? layer, bool optIn = false)
    {
        var point = new HookPoint(name, shape, layer, optIn);
        byName.Add(name, point);
        ordered.Add(point);
        return point;
    }

    public bool Contains(string name) => byName.ContainsKey(name);

    /// <summary>The point named exactly so; an unknown name is an error listing close matches.</summary>
    public HookPoint this[string name] =>
        byName.TryGetValue(name, out var p) ? p : throw new GlassboxException(UnknownNameMessage(name));

    /// <summary>
    /// Points matched by a filter: comma-separated exact names or globs (<c>*</c>, <c>?</c>), e.g.
    /// <c>blocks.*.attn.hook_pattern,hook_embed</c>. An exact name that does not exist, or a glob that
    /// matches nothing, is an error. Opt-in points are returned only when a term names or matches them.
    /// </summary>
    public IReadOnlyList<HookPoint> Match(string filter)
    {
        var selected = new HashSet<HookPoint>();
        foreach (var raw in filter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!raw.Contains('*') && !raw.Contains('?')) { selected.Add(this[raw]); continue; }
            var regex = new Regex("^" + Regex.Escape(raw).Replace("\\*", ".*").Replace("\\?", ".") + "$");
            var hits = ordered.Where(p => regex.IsMatch(p.Name)).ToList();
            if (hits.Count == 0) throw new GlassboxException($"The hook pattern '{raw}' matches no hook point. {Suggest(raw)}");
            selected.UnionWith(hits);
        }
        return ordered.Where(selected.Contains).ToList();
    }

    /// <summary>Points accepted by a predicate; opt-in points only when the predicate accepts them explicitly.</summary>
    public IReadOnlyList<HookPoint> Match(Func<string, bool> predicate) => ordered.Where(p => predicate(p.Name)).ToList();

    /// <summary>Registers <paramref name="fn"/> on each point; disposing the result removes exactly these registrations.</summary>
    public IDisposable Add(IEnumerable<HookPoint> points, HookFn fn)
    {
        var list = points.ToList();
        foreach (var p in list) p.Add(fn);
        return new Registration(() => { foreach (var p in list) p.Remove(fn); });
    }

    public IDisposable Add(string filter, HookFn fn) => Add(Match(filter), fn);

    /// <summary>Removes every hook from every point (a safety net; scoped registrations are the norm).</summary>
    public void ClearAll() { foreach (var p in ordered) p.Clear(); }

    public bool AnyHooks => ordered.Any(p => p.HasHooks);

    string UnknownNameMessage(string name) => $"Unknown hook name '{name}'. {Suggest(name)}";

    string Suggest(string name) => "Hook points: " + NameSuggestions.Describe(name, byName.Keys, max: 5);

    sealed class Registration(Action remove) : IDisposable
    {
        Action? remove = remove;
        public void Dispose() { remove?.Invoke(); remove = null; }
    }
}
