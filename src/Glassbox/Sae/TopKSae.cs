using static TorchSharp.torch;

namespace Glassbox.Sae;

/// <summary>
/// TopK SAE (Gao et al. 2024, arXiv 2406.04093): keep the k largest pre-activations of each token, then ReLU.
/// Loss <c>‖y − ŷ‖² + α‖e − ê_dead‖²</c>: the aux-k term decodes (without b_dec) the top k_aux pre-activations
/// of the dead latents and asks them to explain the residual e, reviving them (α = 1/32, k_aux = d_in / 2).
/// </summary>
public sealed class TopKSae(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights) : SparseAutoencoder(config, weights)
{
    public const double AuxCoefficient = 1.0 / 32;

    public override Tensor Activate(Tensor x, Tensor pre) => KeepTop(pre, Config.K);

    /// <summary>ReLU of the k largest entries along the last axis, zeros elsewhere.</summary>
    public static Tensor KeepTop(Tensor pre, int k)
    {
        var (values, indices) = pre.topk(k, dim: -1);
        return zeros_like(pre).scatter(-1, indices, nn.functional.relu(values));
    }

    public override SaeLoss Loss(Tensor x, Tensor y, SaeStepState state)
    {
        var pre = PreActivations(x);
        var f = KeepTop(pre, Config.K);
        var reconstruction = Decode(f);
        var mse = Mse(reconstruction, y);
        var aux = AuxK(this, pre, y - reconstruction, state.Dead);
        return new SaeLoss(mse + AuxCoefficient * aux, mse, zeros_like(mse), aux, f);
    }

    /// <summary>
    /// ‖e − ê_dead‖² per token, normalised by ‖e‖² so its scale does not shrink with the residual, times
    /// min(1, #dead / k_aux); zero when nothing is dead.
    /// </summary>
    internal static Tensor AuxK(SparseAutoencoder sae, Tensor pre, Tensor residual, Tensor? dead)
    {
        long deadCount = dead is null ? 0 : dead.sum().item<long>();
        if (deadCount == 0) return zeros(1, dtype: pre.dtype, device: pre.device).squeeze();
        int kAux = (int)Math.Min(Math.Max(1, sae.Config.DIn / 2), deadCount);
        var deadPre = pre.masked_fill(dead!.logical_not(), double.NegativeInfinity);
        var fAux = KeepTop(deadPre, kAux);
        var e = residual.detach();
        var scale = Math.Min(1.0, deadCount / (double)Math.Max(1, sae.Config.DIn / 2));
        return scale * (fAux.matmul(sae.W_dec) - e).square().sum(-1).mean() / e.square().sum(-1).mean().clamp_min(1e-12);
    }
}
