using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Probing;

/// <summary>
/// Activation addition (Turner et al. 2023, arXiv 2308.10248): <c>u_i = x^l_i(p⁺) − x^l_i(p⁻)</c> at
/// <c>blocks.l.hook_resid_pre</c>, the shorter prompt padded with a filler token so positions align, then
/// <c>x^l_i ← x^l_i + c·u_i</c> at the first k positions of the user's prompt.
/// </summary>
public static class ActAdd
{
    public static SteeringVector FromPromptPair(HookedTransformer model, IReadOnlyList<long> plus, IReadOnlyList<long> minus, int layer, long filler)
    {
        if (plus.Count == 0 || minus.Count == 0) throw new GlassboxException("ActAdd needs two non-empty prompts.");
        if (layer < 0 || layer >= model.Config.NLayers) throw new GlassboxException($"Layer {layer} is outside 0..{model.Config.NLayers - 1}.");
        int k = Math.Max(plus.Count, minus.Count);
        string name = $"blocks.{layer}.hook_resid_pre";
        using var scope = NewDisposeScope();
        Tensor Resid(IReadOnlyList<long> prompt)
        {
            var padded = prompt.Concat(Enumerable.Repeat(filler, k - prompt.Count)).ToArray();
            var (_, cache) = model.RunWithCache(tensor(padded).unsqueeze(0), name);
            using (cache) return cache[name][0].clone();
        }
        return new SteeringVector(name, (Resid(plus) - Resid(minus)).DetachFromDisposeScope());
    }
}
