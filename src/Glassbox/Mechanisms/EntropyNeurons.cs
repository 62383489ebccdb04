using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Mechanisms;

/// <summary>
/// Entropy neurons (Stolfo et al. 2024, arXiv 2406.16254; Gurnee et al. 2024, arXiv 2401.12181): with <c>W_U = U S Vᵀ</c> and
/// <c>U_k</c> the k residual directions of smallest singular value (the unembedding's near-null space),
/// <c>ρ_u = ‖W_out[u] U_k‖² / ‖W_out[u]‖²</c>. A neuron with large ‖W_out[u]‖ and large ρ_u barely moves any logit directly
/// but grows the residual's norm, so through the final norm's scale it sharpens or flattens the whole distribution.
/// Flagged: ρ_u ≥ <c>minShare</c> and ‖W_out[u]‖ ≥ <c>minNormRatio</c> × the layer's median.
/// </summary>
public static class EntropyNeurons
{
    public static NeuronScoreReport Find(HookedTransformer model, IReadOnlyList<int>? layers = null, int k = 10, int top = 10,
        double minShare = 0.5, double minNormRatio = 2)
    {
        int d = model.Config.DModel;
        if (k < 1 || k >= d) throw new GlassboxException($"k must be between 1 and {d - 1} (d_model), got {k}.");
        layers ??= [model.Config.NLayers - 1];
        using var scope = NewDisposeScope();
        var (u, _, _) = linalg.svd(model.W_U.to(ScalarType.Float64), fullMatrices: false); // singular values descending
        var nullSpace = u.narrow(1, d - k, k);
        var scores = new List<NeuronScore>();
        var flagged = new List<NeuronScore>();
        foreach (int l in layers)
        {
            var wOut = MlpAt(model, l).W_out.to(ScalarType.Float64); // [d_mlp, d_model]
            var norm = wOut.norm(1, keepdim: false, p: 2);
            var share = matmul(wOut, nullSpace).pow(2).sum(1) / norm.pow(2).clamp_min(1e-300);
            double median = norm.median().item<double>();
            var n = norm.data<double>().ToArray();
            var rho = share.data<double>().ToArray();
            for (int i = 0; i < n.Length; i++)
            {
                var score = new NeuronScore(l, i, n[i], rho[i]);
                scores.Add(score);
                if (rho[i] >= minShare && n[i] >= minNormRatio * median) flagged.Add(score);
            }
        }
        // Ranked by the norm of the null-space write, ‖W_out[u] U_k‖ = ‖W_out[u]‖ √ρ_u.
        var ranked = scores.OrderByDescending(s => s.OutputNorm * Math.Sqrt(s.Score)).Take(top).ToList();
        return new NeuronScoreReport($"entropy neurons: share ρ of each neuron's output in the {k} directions W_U reads least",
            "ρ", $"ρ ≥ {minShare} and ‖W_out‖ ≥ {minNormRatio} × the layer's median", ranked, flagged.OrderByDescending(s => s.OutputNorm * Math.Sqrt(s.Score)).ToList());
    }

    internal static Mlp MlpAt(HookedTransformer model, int layer)
    {
        if (layer < 0 || layer >= model.Config.NLayers) throw new GlassboxException($"Layer {layer} is outside 0..{model.Config.NLayers - 1}.");
        var block = model.Blocks[layer];
        return block.Mlp ?? throw new GlassboxException(block.Moe is not null
            ? $"Layer {layer} is a mixture of experts: it has no one MLP whose neurons write to the residual for every token, so its neurons cannot be scored."
            : $"Layer {layer} has no MLP (the model is attention only).");
    }
}
