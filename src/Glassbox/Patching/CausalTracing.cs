using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Patching;

/// <summary>
/// Causal tracing (Meng et al. 2022, arXiv 2202.05262): corrupt the clean prompts by adding Gaussian noise
/// <c>ν ~ N(0, (k·σ_E)²)</c> (k = 3) to the token embeddings at the subject positions, σ_E the standard deviation of the
/// embedding matrix's entries, then restore the clean residual stream (resid_pre) at one layer × position; the indirect effect is
/// <c>M(restored) − M(noised)</c>, averaged over noise samples, each sample's noise reused for all its restorations.
/// </summary>
public static class CausalTracing
{
    public static PatchingReport Run(HookedTransformer model, Tensor tokens, PatchMetric metric, IReadOnlyList<int> subjectPositions,
        int samples = 10, double noiseScale = 3.0, int seed = 0)
    {
        if (subjectPositions.Count == 0) throw new GlassboxException("Causal tracing needs at least one subject position to corrupt.");
        if (samples < 1) throw new GlassboxException($"Causal tracing needs at least one noise sample, got {samples}.");
        using var scope = NewDisposeScope();
        using var task = new PatchingTask("causal tracing", tokens, tokens, metric);
        int L = model.Config.NLayers;
        long batch = tokens.shape[0], P = tokens.shape[1];
        if (subjectPositions.Any(p => p < 0 || p >= P)) throw new GlassboxException($"A subject position lies outside the {P}-token prompts.");
        double sigma = model.W_E.std().item<float>() * noiseScale;
        var positions = tensor(subjectPositions.Select(p => (long)p).ToArray(), device: model.Device);
        var (_, cache) = model.RunWithCache(tokens, "blocks.*.hook_resid_pre");
        using (cache)
        {
            double clean = task.Measure(model, tokens);
            double noised = 0;
            var restored = new double[L, P];
            var generator = new Generator((ulong)seed);
            for (int s = 0; s < samples; s++)
            {
                var noise = (randn(new long[] { batch, subjectPositions.Count, model.Config.DModel }, generator: generator) * sigma).to(model.DType, model.Device);
                (string, HookFn) corrupt = ("hook_embed", (x, _) => x.index_add(1, positions, noise, 1.0));
                noised += task.Measure(model, tokens, corrupt) / samples;
                for (int l = 0; l < L; l++)
                    for (int p = 0; p < P; p++)
                    {
                        var source = cache["resid_pre", l];
                        int position = p;
                        restored[l, p] += task.Measure(model, tokens, corrupt, (HookNames.Full("resid_pre", l), (x, _) =>
                        {
                            var y = x.clone();
                            y[.., position] = source[.., position];
                            return y;
                        })) / samples;
                    }
            }
            return new PatchingReport($"causal tracing ({samples} samples, {noiseScale}σ)", metric.Name, clean, noised, noised,
                "layer", "position", ActivationPatching.Labels("L", L), ActivationPatching.Labels("", (int)P), restored);
        }
    }
}
