using static TorchSharp.torch;

namespace Glassbox.Hooks;

/// <summary>
/// Code run at a hook point: it may read the activation, or return a tensor of the same shape to
/// replace it (null keeps the original). This is the whole intervention API, as in nnsight:
/// patching, ablation, steering and SAE splicing are all hook functions.
/// </summary>
public delegate Tensor? HookFn(Tensor activation, HookPoint point);

/// <summary>
/// A named place in the forward pass (TransformerLens naming, e.g. <c>blocks.3.attn.hook_pattern</c>)
/// where registered hooks run. Hooks are registered for the duration of a call and removed after it.
/// </summary>
public sealed class HookPoint
{
    readonly List<HookFn> hooks = new();

    public HookPoint(string name, string shape, int? layer, bool optIn = false)
    {
        Name = name;
        Shape = shape;
        Layer = layer;
        OptIn = optIn;
    }

    /// <summary>Full TransformerLens name, e.g. <c>blocks.0.hook_resid_pre</c>.</summary>
    public string Name { get; }

    /// <summary>Documented shape, e.g. <c>[batch, pos, d_model=768]</c>.</summary>
    public string Shape { get; }

    /// <summary>Block index, or null for points outside the blocks (embeddings, final norm).</summary>
    public int? Layer { get; }

    /// <summary>Computed only when a hook asks for it (e.g. <c>attn.hook_result</c>, H× the memory).</summary>
    public bool OptIn { get; }

    public bool HasHooks => hooks.Count > 0;

    /// <summary>Runs the registered hooks in order; each sees the previous one's output.</summary>
    public Tensor Run(Tensor x)
    {
        for (int i = 0; i < hooks.Count; i++)
        {
            var replaced = hooks[i](x, this);
            if (replaced is null || ReferenceEquals(replaced, x)) continue;
            if (!replaced.shape.SequenceEqual(x.shape))
                throw new GlassboxException($"A hook on {Name} returned shape [{string.Join(", ", replaced.shape)}] but the activation has shape [{string.Join(", ", x.shape)}].");
            if (replaced.dtype != x.dtype || replaced.device_type != x.device_type || replaced.device_index != x.device_index)
                throw new GlassboxException($"A hook on {Name} returned {replaced.dtype} on {replaced.device} but the activation is {x.dtype} on {x.device}.");
            x = replaced;
        }
        return x;
    }

    internal void Add(HookFn fn) => hooks.Add(fn);

    internal void Remove(HookFn fn) => hooks.Remove(fn);

    internal void Clear() => hooks.Clear();

    public override string ToString() => $"{Name} {Shape}";
}
