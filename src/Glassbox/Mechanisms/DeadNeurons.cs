using Glassbox.Hooks;
using static TorchSharp.torch;

namespace Glassbox.Mechanisms;

/// <summary>
/// Dead neurons (Voita et al. 2023, arXiv 2309.04827): MLP neurons whose pre-activation (<c>mlp.hook_pre</c>, the gate for gated
/// MLPs) is never positive over the tokens seen, so a ReLU never fires and a GELU/SiLU stays in its near-zero tail. The paper
/// scans ≥ 10⁶ tokens; <see cref="Tokens"/> says how many this count rests on.
/// </summary>
public sealed record DeadNeurons(int[] PerLayer, int NeuronsPerLayer, long Tokens)
{
    /// <summary><paramref name="cache"/> holds <c>blocks.*.mlp.hook_pre</c>.</summary>
    public static DeadNeurons Count(ActivationCache cache, int layers) => Count([.. Enumerable.Range(0, layers).Select(l => cache["pre", l])]);

    /// <summary>From each layer's pre-activations <c>[batch, pos, d_mlp]</c>.</summary>
    public static DeadNeurons Count(IReadOnlyList<Tensor> preActivations)
    {
        using var scope = NewDisposeScope();
        var dead = new int[preActivations.Count];
        long tokens = 0;
        for (int l = 0; l < dead.Length; l++)
        {
            var pre = preActivations[l];
            tokens = pre.shape[0] * pre.shape[1];
            dead[l] = (int)(pre.amax(new long[] { 0, 1 }) <= 0).sum().item<long>();
        }
        return new(dead, (int)preActivations[0].shape[2], tokens);
    }
}
