using Glassbox.Hooks;
using Glassbox.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Probing;

/// <summary>
/// Directional ablation (Arditi et al. 2024, arXiv 2406.11717): project a unit direction out of the residual stream,
/// <c>x ← x − (x r̂ᵀ) r̂</c>, at every <c>resid_pre</c>, <c>resid_mid</c> and <c>resid_post</c> of every layer and position;
/// or, as new weights, orthogonalise every write to the residual stream, <c>W ← W − (W r̂ᵀ) r̂</c> (the same model).
/// </summary>
public static class DirectionalAblation
{
    /// <summary>resid_pre, resid_mid (where the block has one) and resid_post of every layer.</summary>
    public const string ResidualHooks = "blocks.*.hook_resid_*";

    /// <summary>The hook for <see cref="Models.HookedTransformer.RunWithHooks"/>; <paramref name="direction"/> [d] need not be unit length.</summary>
    public static (string Names, HookFn Fn) Hook(Tensor direction)
    {
        var unit = Unit(direction).detach().DetachFromDisposeScope();
        HookFn fn = (x, _) =>
        {
            var r = unit.to(x.dtype, x.device);
            return x - matmul(x, r).unsqueeze(-1) * r;
        };
        return (ResidualHooks, fn);
    }

    /// <summary>
    /// Weight orthogonalisation (Arditi et al. 2024): a new model whose every residual-stream writer (embeddings, W_O, b_O,
    /// W_out, b_out) has its component along <paramref name="direction"/> removed, in float64 then cast back. Since the residual
    /// is the sum of those writes, it never has a component along r̂: the same computation as <see cref="Hook"/> at every
    /// layer, with no hook at run time, so it can be saved and loaded as an ordinary checkpoint.
    /// </summary>
    public static HookedTransformer Orthogonalize(HookedTransformer model, Tensor direction)
    {
        if (direction.numel() != model.Config.DModel)
            throw new GlassboxException($"The direction has {direction.numel()} entries; the residual stream has {model.Config.DModel}.");
        using var scope = NewDisposeScope();
        using var weights = model.ExportStateDict();
        using var exact = weights.Clone(ScalarType.Float64);
        var unit = Unit(direction.flatten().to(ScalarType.Float64, exact["embed.W_E"].device));
        WeightProcessing.MapWriters(exact, model.Config, w => w - matmul(w, unit).unsqueeze(-1) * unit);
        // The unembedding is a reader and stays as it was, so a tied embedding is tied no longer.
        return new HookedTransformer(model.Config with { TiedEmbeddings = false }, exact, model.Device, model.DType);
    }

    static Tensor Unit(Tensor direction)
    {
        var norm = direction.norm().ToDouble();
        if (!(norm > 0)) throw new GlassboxException("Directional ablation needs a non-zero direction.");
        return direction / norm;
    }
}
