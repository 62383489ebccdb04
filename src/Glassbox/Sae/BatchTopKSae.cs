using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Sae;

/// <summary>
/// BatchTopK SAE (Bussmann et al. 2024, arXiv 2412.06410): in training keep the B·k largest entries of
/// ReLU(π) over the whole batch (k per token on average); at inference <c>f = π ⊙ H(π − θ)</c> with one scalar θ,
/// the running mean of the smallest activation kept in training (saved as <c>threshold</c>, broadcast to d_sae).
/// Loss as TopK, aux-k included.
/// </summary>
public sealed class BatchTopKSae(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights) : SparseAutoencoder(config, weights)
{
    const double ThresholdMomentum = 0.99;
    bool thresholdSeen;

    public Tensor Threshold => this["threshold"];

    public override IReadOnlyList<Tensor> Parameters => [W_enc, this["b_enc"], W_dec, b_dec];

    public override Tensor Activate(Tensor x, Tensor pre) => pre * (pre > Threshold).to(pre.dtype);

    Tensor BatchTop(Tensor pre)
    {
        var flat = nn.functional.relu(pre).flatten();
        long keep = Math.Min(flat.numel(), (long)Config.K * (pre.numel() / Config.DSae));
        var (values, indices) = flat.topk((int)keep);
        return zeros_like(flat).scatter(0, indices, values).view(pre.shape);
    }

    public override SaeLoss Loss(Tensor x, Tensor y, SaeStepState state)
    {
        var pre = PreActivations(x);
        var f = BatchTop(pre);
        var reconstruction = Decode(f);
        var mse = Mse(reconstruction, y);
        var aux = TopKSae.AuxK(this, pre, y - reconstruction, state.Dead);
        return new SaeLoss(mse + TopKSae.AuxCoefficient * aux, mse, zeros_like(mse), aux, f);
    }

    public override void AfterStep(Tensor x, SaeLoss loss)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var f = loss.Activations.detach();
        var positive = f.masked_select(f > 0);
        if (positive.numel() == 0) return;
        double smallest = positive.min().ToDouble();
        double current = Threshold[0].ToDouble();
        Threshold.fill_(thresholdSeen ? ThresholdMomentum * current + (1 - ThresholdMomentum) * smallest : smallest);
        thresholdSeen = true;
    }
}
