using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Probing;

/// <summary>
/// Mean-difference direction (Marks &amp; Tegmark 2023; Arditi et al. 2024): <c>u = mean_{y=1} h − mean_{y=0} h</c> of
/// <c>blocks.l.hook_{hook}</c> at one position of two prompt sets; steer with <c>x^l ← x^l + α u</c> at every position.
/// </summary>
public static class MeanDifference
{
    public static SteeringVector FromSets(HookedTransformer model, IReadOnlyList<long[]> positive, IReadOnlyList<long[]> negative, int layer,
        string hook = "resid_pre", int position = -1)
    {
        if (positive.Count == 0 || negative.Count == 0) throw new GlassboxException("Mean difference needs two non-empty prompt sets.");
        if (layer < 0 || layer >= model.Config.NLayers) throw new GlassboxException($"Layer {layer} is outside 0..{model.Config.NLayers - 1}.");
        using var scope = NewDisposeScope();
        var u = ProbeSweep.ActivationsAt(model, positive, hook, position)[layer].mean([0])
              - ProbeSweep.ActivationsAt(model, negative, hook, position)[layer].mean([0]);
        return new SteeringVector($"blocks.{layer}.hook_{hook}", u.to(model.DType).DetachFromDisposeScope());
    }
}
