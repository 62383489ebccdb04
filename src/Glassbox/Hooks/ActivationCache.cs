using static TorchSharp.torch;

namespace Glassbox.Hooks;

/// <summary>
/// Activations recorded by <c>RunWithCache</c>, by hook name (TransformerLens's ActivationCache).
/// Index by full name or by shorthand: <c>cache["pattern", 3]</c>. With gradients kept, the tensors
/// stay in the autograd graph, so after <c>metric.backward()</c> <see cref="Grad"/> gives
/// d metric / d activation for every cached point. Owns its tensors: dispose it.
/// </summary>
public sealed class ActivationCache : IDisposable
{
    readonly Dictionary<string, Tensor> activations = new(StringComparer.Ordinal);
    readonly HookRegistry registry;

    internal ActivationCache(HookRegistry registry, bool keepsGrad)
    {
        this.registry = registry;
        KeepsGrad = keepsGrad;
    }

    public bool KeepsGrad { get; }

    public IEnumerable<string> Names => activations.Keys;

    public int Count => activations.Count;

    public bool Contains(string name) => activations.ContainsKey(name);

    public Tensor this[string name] => activations.TryGetValue(name, out var t) ? t : throw Missing(name);

    public Tensor this[string shortName, int layer, string? sublayer = null] => this[HookNames.Full(shortName, layer, sublayer)];

    /// <summary>Gradient of the last backward pass with respect to a cached activation.</summary>
    public Tensor Grad(string name)
    {
        if (!KeepsGrad) throw new GlassboxException("This cache was recorded without gradients; call RunWithCache with keepGrad: true.");
        return this[name].grad ?? throw new GlassboxException($"No gradient reached {name}: run backward() on a metric that depends on it.");
    }

    /// <summary>Activations of one kind for every layer stacked on a new leading axis, e.g. <c>Stack("resid_post")</c>.</summary>
    public Tensor Stack(string shortName, int nLayers, string? sublayer = null) =>
        stack(Enumerable.Range(0, nLayers).Select(l => this[shortName, l, sublayer]).ToArray());

    internal void Add(string name, Tensor t)
    {
        if (activations.Remove(name, out var old)) old.Dispose();
        activations[name] = t;
    }

    Exception Missing(string name)
    {
        _ = registry[name]; // throws, naming close matches, when the model has no such point
        return new GlassboxException($"'{name}' is a hook point of this model but was not cached: widen the names filter of RunWithCache.");
    }

    public void Dispose()
    {
        foreach (var t in activations.Values) t.Dispose();
        activations.Clear();
    }
}
