using static TorchSharp.torch;

namespace Glassbox.Sae;

/// <summary>
/// Gated SAE (Rajamanoharan et al. 2024a, arXiv 2404.16014): a gate decides which latents fire and a magnitude
/// path (sharing W_enc, rescaled by exp(r_mag)) sets how much:
/// <c>π_gate = (x − b_dec)W_enc + b_gate</c>, <c>π_mag = (x − b_dec)(W_enc ⊙ exp(r_mag)) + b_mag</c>,
/// <c>f = 1[π_gate &gt; 0] ⊙ ReLU(π_mag)</c>. Loss <c>‖y − ŷ‖² + λ‖ReLU(π_gate)‖₁ + ‖y − ŷ_frozen(ReLU(π_gate))‖²</c>, the last
/// decoding the gate through a stop-gradient copy of the decoder; decoder rows are kept at unit norm.
/// </summary>
public sealed class GatedSae(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights) : SparseAutoencoder(config, weights)
{
    Tensor Centred(Tensor x) => Config.ApplyBDecToInput ? x - b_dec : x;

    public override Tensor PreActivations(Tensor x) => Centred(x).matmul(W_enc) + this["b_gate"];

    Tensor Magnitude(Tensor x) => nn.functional.relu(Centred(x).matmul(W_enc * this["r_mag"].exp()) + this["b_mag"]);

    public override Tensor Activate(Tensor x, Tensor pre) => (pre > 0).to(pre.dtype) * Magnitude(x);

    public override SaeLoss Loss(Tensor x, Tensor y, SaeStepState state)
    {
        var gate = PreActivations(x);
        var f = Activate(x, gate);
        var mse = Mse(Decode(f), y);
        var active = nn.functional.relu(gate);
        var sparsity = active.sum(-1).mean();
        var aux = Mse(active.matmul(W_dec.detach()) + b_dec.detach(), y);
        return new SaeLoss(mse + state.SparsityCoefficient * sparsity + aux, mse, sparsity, aux, f);
    }
}
