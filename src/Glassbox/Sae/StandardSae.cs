using static TorchSharp.torch;

namespace Glassbox.Sae;

/// <summary>
/// ReLU SAE with the decoder-norm-weighted L1 penalty of Anthropic's April 2024 update (Conerly et al. 2024):
/// <c>f = ReLU(π)</c>, loss <c>‖y − ŷ‖² + λ Σ_i f_i ‖W_dec[i]‖₂</c>. The decoder norm is free, so it is not renormalised.
/// Also the transcoder of Dunefsky et al. 2024 when the config names a target hook.
/// </summary>
public sealed class StandardSae(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights) : SparseAutoencoder(config, weights)
{
    public override bool UnitNormDecoder => false;

    public override Tensor Activate(Tensor x, Tensor pre) => nn.functional.relu(pre);

    public override SaeLoss Loss(Tensor x, Tensor y, SaeStepState state)
    {
        var f = Encode(x);
        var mse = Mse(Decode(f), y);
        var sparsity = (f * W_dec.norm(1)).sum(-1).mean();
        return new SaeLoss(mse + state.SparsityCoefficient * sparsity, mse, sparsity, zeros_like(mse), f);
    }
}
