using Glassbox.Training;
using static TorchSharp.torch;

namespace Glassbox.Sae;

/// <summary>
/// Dead-latent resampling (Bricken et al. 2023, "Towards Monosemanticity"): each dead latent i restarts from an input the
/// SAE reconstructs badly, drawn with probability ∝ ‖y − ŷ‖⁴ (the squared loss): <c>W_dec[i] = u/‖u‖</c> with u = y − b_dec,
/// <c>W_enc[:, i] = 0.2 · mean_alive ‖W_enc[:, j]‖ · v/‖v‖</c> with v the input as the encoder reads it (x − b_dec, or x when b_dec is not applied to it), its per-latent
/// vectors (b_enc, Gated's b_gate/b_mag/r_mag, JumpReLU's log θ) back to their initial values, and the Adam moments of
/// every touched entry zeroed.
/// </summary>
public static class DeadLatentResampling
{
    /// <summary>A resampled encoder column's norm, as a fraction of the mean norm of the live ones.</summary>
    public const double EncoderNormFraction = 0.2;

    /// <summary>Resamples the latents marked in <paramref name="dead"/> ([d_sae] bool) from the batch (x, y); returns how many.</summary>
    public static int Resample(SparseAutoencoder sae, AdamW optimizer, Tensor dead, Tensor x, Tensor y, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var latents = dead.nonzero().squeeze(1);
        int count = (int)latents.shape[0];
        if (count == 0) return 0;

        var loss = (y - sae.Reconstruct(x)).square().sum(-1).to(ScalarType.Float64);
        var weights = loss.square();
        if (weights.sum().item<double>() <= 0) weights = ones_like(weights);
        var chosen = multinomial(weights, count, replacement: true, generator: generator);

        var alive = dead.logical_not();
        var encoderNorms = sae.W_enc.norm(0);
        double liveNorm = alive.any().item<bool>() ? encoderNorms.masked_select(alive).mean().to(ScalarType.Float64).item<double>() : 1.0;
        var inputs = x.index_select(0, chosen);
        if (sae.Config.ApplyBDecToInput) inputs = inputs - sae.b_dec;
        var targets = y.index_select(0, chosen) - sae.b_dec;
        sae.W_dec.index_copy_(0, latents, Unit(targets));
        sae.W_enc.index_copy_(1, latents, (Unit(inputs) * (EncoderNormFraction * liveNorm)).t());
        foreach (var (vector, initial) in sae.LatentVectors) vector.index_fill_(0, latents, initial);

        foreach (var (parameter, axis) in sae.LatentVectors.Select(v => (v.Vector, 0)).Append((sae.W_enc, 1)).Append((sae.W_dec, 0)))
        {
            var (m, v) = optimizer.Moments(parameter);
            m.index_fill_(axis, latents, 0);
            v.index_fill_(axis, latents, 0);
        }
        return count;
    }

    static Tensor Unit(Tensor rows) => rows / rows.norm(1, keepdim: true).clamp_min(1e-12);
}
