using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Lens;

/// <summary>
/// A frozen model's residual streams <c>x^l</c> ([tokens, d] per layer) and final log-probabilities ([tokens, d_vocab])
/// on a token batch, flattened over batch and position: what training and evaluating a tuned lens read.
/// </summary>
internal sealed class LensStream : IDisposable
{
    LensStream(Tensor[] residual, Tensor final) => (Residual, Final) = (residual, final);

    public Tensor[] Residual { get; }
    public Tensor Final { get; }

    /// <summary>Runs <paramref name="tokens"/> [batch, pos] a few sequences at a time (bounded activation memory).</summary>
    public static LensStream Collect(HookedTransformer model, Tensor tokens, int sequencesPerPass = 16)
    {
        if (tokens.dim() != 2 || tokens.numel() == 0) throw new GlassboxException($"Lens training needs tokens [batch, pos], got [{string.Join(", ", tokens.shape)}].");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int L = model.Config.NLayers, d = model.Config.DModel;
        var residual = Enumerable.Range(0, L).Select(_ => new List<Tensor>()).ToArray();
        var final = new List<Tensor>();
        for (long start = 0; start < tokens.shape[0]; start += sequencesPerPass)
        {
            var chunk = tokens.narrow(0, start, Math.Min(sequencesPerPass, tokens.shape[0] - start));
            var (logits, cache) = model.RunWithCache(chunk, "blocks.*.hook_resid_pre");
            using (cache)
            {
                for (int l = 0; l < L; l++) residual[l].Add(cache["resid_pre", l].reshape(-1, d).clone());
                final.Add(logits.to(ScalarType.Float32).log_softmax(-1).reshape(-1, logits.shape[^1]));
            }
        }
        return new LensStream(residual.Select(r => cat(r, 0).DetachFromDisposeScope()).ToArray(), cat(final, 0).DetachFromDisposeScope());
    }

    /// <summary>Mean over tokens of <c>KL(p ‖ softmax(logits))</c>, with <paramref name="targetLogP"/> = log p.</summary>
    public static Tensor Kl(Tensor targetLogP, Tensor logits) =>
        (targetLogP.exp() * (targetLogP - logits.to(ScalarType.Float32).log_softmax(-1))).sum(-1).mean();

    public void Dispose()
    {
        foreach (var r in Residual) r.Dispose();
        Final.Dispose();
    }
}
