using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// Raw attention weights (where a head reads; not evidence of importance — Jain &amp; Wallace 2019, arXiv 1902.10186):
/// <c>A_j = A^{l,h}_{t,j}</c> for one head, averaged over the heads of a layer, or over every head and layer (default).
/// Per-layer rows are each layer's head mean (or the chosen head).
/// </summary>
public sealed class RawAttention : IAttributionMethod
{
    public string Name => "attention";
    public string Description => "the attention weights of the last position: one head, a layer's head mean, or the mean over all layers";
    public bool UsesTarget => false;

    /// <summary>Only this layer (null: the mean over layers).</summary>
    public int? Layer { get; init; }
    /// <summary>Only this head of <see cref="Layer"/> (null: the mean over heads).</summary>
    public int? Head { get; init; }

    public StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target)
    {
        var cfg = model.Config;
        if (Layer is { } l && (l < 0 || l >= cfg.NLayers)) throw new GlassboxException($"Layer {l} does not exist: the model has {cfg.NLayers} layers.");
        if (Head is { } h && (Layer is null || h < 0 || h >= cfg.NHeads))
            throw new GlassboxException(Layer is null ? "A head needs a layer." : $"Head {h} does not exist: layers have {cfg.NHeads} heads.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (_, cache) = model.RunWithCache(tensor(context, device: model.W_E.device).unsqueeze(0), "blocks.*.attn.hook_pattern");
        using (cache)
        {
            var layers = Enumerable.Range(0, cfg.NLayers)
                .Select(i => Head is { } head ? cache["pattern", i][0, head] : cache["pattern", i][0].mean([0])).ToList();
            var all = LayerMixing.LastRows(layers);
            return Layer is { } only ? all with { Scores = Enumerable.Range(0, context.Length).Select(j => all.PerLayer![only, j]).ToArray() } : all;
        }
    }
}
