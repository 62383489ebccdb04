using Glassbox.Hooks;
using static TorchSharp.torch;

namespace Glassbox.Probing;

/// <summary>
/// Directional ablation (Arditi et al. 2024, arXiv 2406.11717): project a unit direction out of the residual stream,
/// <c>x ← x − (x r̂ᵀ) r̂</c>, at every <c>resid_pre</c>, <c>resid_mid</c> and <c>resid_post</c> of every layer and position.
/// </summary>
public static class DirectionalAblation
{
    public const string ResidualHooks = "blocks.*.hook_resid_pre,blocks.*.hook_resid_mid,blocks.*.hook_resid_post";

    /// <summary>The hook for <see cref="Models.HookedTransformer.RunWithHooks"/>; <paramref name="direction"/> [d] need not be unit length.</summary>
    public static (string Names, HookFn Fn) Hook(Tensor direction)
    {
        var norm = direction.norm().item<float>();
        if (!(norm > 0)) throw new GlassboxException("Directional ablation needs a non-zero direction.");
        var unit = (direction / norm).detach().DetachFromDisposeScope();
        HookFn fn = (x, _) =>
        {
            var r = unit.to(x.dtype, x.device);
            return x - matmul(x, r).unsqueeze(-1) * r;
        };
        return (ResidualHooks, fn);
    }
}
