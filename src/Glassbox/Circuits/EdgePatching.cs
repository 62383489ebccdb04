using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Circuits;

/// <summary>What an ablated edge carries instead of the writer's actual output.</summary>
public enum EdgeAblation
{
    /// <summary>The writer's output on the corrupted prompt of the same item (resample ablation).</summary>
    Resample,
    /// <summary>The writer's output averaged over the corrupted prompts, per position (templated data, Wang et al. 2023).</summary>
    Mean,
}

/// <summary>
/// Runs the model with chosen edges of a <see cref="ComputationalGraph"/> patched: every patched edge u→v changes only v's input,
/// <c>in_v ← in_v − z_u + ẑ_u</c>, where z_u is u's output in this very run (so upstream patches propagate) and ẑ_u the stored
/// patch value. One forward pass per configuration, whatever the number of patched edges. Owns the patch values: dispose it.
/// </summary>
public sealed class EdgePatcher : IDisposable
{
    readonly HookedTransformer model;
    readonly Tensor values;

    /// <param name="values">Patch values ẑ, [writer, batch, pos, d_model] (<see cref="PatchValues"/>).</param>
    public EdgePatcher(HookedTransformer model, ComputationalGraph graph, Tensor values)
    {
        this.model = model;
        Graph = graph;
        this.values = values.detach().DetachFromDisposeScope();
    }

    public ComputationalGraph Graph { get; }

    /// <summary>ẑ, [writer, batch, pos, d_model].</summary>
    public Tensor Values => values;

    /// <summary>Logits [batch, pos, d_vocab] of <paramref name="tokens"/> with the edges flagged in <paramref name="patched"/> patched.</summary>
    public Tensor Run(Tensor tokens, bool[] patched)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var hooks = new List<(string, HookFn)>();
        var active = Graph.Groups.Where(g => Graph.Readers.Where(r => r.Group == g).Any(r => Graph.EdgeIndex[r.Index].Any(e => patched[e]))).ToList();
        if (active.Count > 0)
        {
            var deltas = zeros(values.shape, values.dtype, values.device); // z_u − ẑ_u as the run goes
            hooks.Add(("blocks.0.hook_resid_pre", Record(deltas, 0, x => x.unsqueeze(0))));
            int w = 1;
            foreach (var block in model.Blocks)
            {
                hooks.Add((block.Attn.HookResult.Name, Record(deltas, w, x => x.permute(2, 0, 1, 3))));
                w += model.Config.NHeads;
                if (block.Mlp is null) continue;
                hooks.Add((block.HookMlpOut!.Name, Record(deltas, w, x => x.unsqueeze(0))));
                w++;
            }
            foreach (var g in active)
            {
                var mask = Mask(g, patched).to(values.dtype, values.device);
                hooks.Add((g.HookName, (x, _) =>
                {
                    var upstream = deltas.narrow(0, 0, g.Upstream);
                    return g.Port is 'q' or 'k' or 'v'
                        ? x - einsum("wbpd,rw->bprd", upstream, mask)
                        : x - einsum("wbpd,w->bpd", upstream, mask[0]);
                }));
            }
        }
        return model.RunWithHooks(tokens, hooks.ToArray()).MoveToOuterDisposeScope();
    }

    HookFn Record(Tensor deltas, int first, Func<Tensor, Tensor> toWriters) => (x, _) =>
    {
        var z = toWriters(x);
        deltas.narrow(0, first, z.shape[0]).copy_(z - values.narrow(0, first, z.shape[0]));
        return null;
    };

    /// <summary>[rows, upstream]: 1 where the edge from writer w into row r is patched.</summary>
    Tensor Mask(ReaderGroup g, bool[] patched)
    {
        var m = new float[g.Rows * g.Upstream];
        foreach (var r in Graph.Readers.Where(r => r.Group == g))
            for (int w = 0; w < g.Upstream; w++)
                if (patched[Graph.EdgeIndex[r.Index][w]]) m[r.Row * g.Upstream + w] = 1;
        return tensor(m, new long[] { g.Rows, g.Upstream });
    }

    /// <summary>Every writer's output on <paramref name="tokens"/>, [writer, batch, pos, d_model], in the graph's writer order.</summary>
    public static Tensor Writers(HookedTransformer model, Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var (_, cache) = model.RunWithCache(tokens, "blocks.0.hook_resid_pre,blocks.*.attn.hook_result" + (model.Config.AttnOnly ? "" : ",blocks.*.hook_mlp_out"));
        using (cache)
        {
            var parts = new List<Tensor> { cache["resid_pre", 0].unsqueeze(0) };
            for (int l = 0; l < model.Config.NLayers; l++)
            {
                parts.Add(cache["result", l].permute(2, 0, 1, 3));
                if (!model.Config.AttnOnly) parts.Add(cache["mlp_out", l].unsqueeze(0));
            }
            return cat(parts.ToArray(), 0).MoveToOuterDisposeScope();
        }
    }

    /// <summary>The patch values for clean prompts of <paramref name="clean"/>'s shape: the corrupted run's writers, or their mean over the batch.</summary>
    public static Tensor PatchValues(HookedTransformer model, Tensor clean, Tensor corrupted, EdgeAblation ablation)
    {
        using var scope = NewDisposeScope();
        var writers = Writers(model, corrupted);
        if (ablation == EdgeAblation.Mean) writers = writers.mean(new long[] { 1 }, keepdim: true).expand(-1, clean.shape[0], -1, -1).contiguous();
        return writers.MoveToOuterDisposeScope();
    }

    public void Dispose() => values.Dispose();
}
