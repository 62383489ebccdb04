using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Patching;

/// <summary>The state causal tracing restores: the residual stream entering a block, or a block's attention or MLP output.</summary>
public enum TracedState { ResidPre, AttnOut, MlpOut }

/// <summary>
/// Causal tracing (Meng et al. 2022, arXiv 2202.05262): corrupt the clean prompts by adding Gaussian noise
/// <c>ν ~ N(0, (k·σ_E)²)</c> (k = 3) to the token embeddings at the subject positions, σ_E the standard deviation of the
/// embedding matrix's entries, then restore one clean state at position i: resid_pre at layer l, or attn_out / mlp_out in every
/// layer of a window centred on l (10 layers by default, clipped at the model's edges), since those effects are spread over
/// layers. The indirect effect is <c>M(restored) − M(noised)</c>, averaged over noise samples, each sample's noise reused for
/// all its restorations so that effects are paired.
/// </summary>
public static class CausalTracing
{
    /// <summary>Meng et al.'s window for attention and MLP outputs.</summary>
    public const int DefaultWindow = 10;

    /// <summary>The residual stream is restored at one layer; attention and MLP outputs over <see cref="DefaultWindow"/> layers.</summary>
    public static int DefaultWindowFor(TracedState state) => state == TracedState.ResidPre ? 1 : DefaultWindow;

    /// <summary>
    /// The layers restored for row <paramref name="layer"/>: <c>l − ⌊w/2⌋ … l − ⌊w/2⌋ + w − 1</c> as in Meng et al.'s code (a window
    /// of 1 is layer l alone), clipped to <c>0 … layers − 1</c>.
    /// </summary>
    public static (int First, int Last) Window(int layer, int window, int layers) =>
        (Math.Max(0, layer - window / 2), Math.Min(layers, layer - window / 2 + window) - 1);

    public static PatchingReport Run(HookedTransformer model, Tensor tokens, PatchMetric metric, IReadOnlyList<int> subjectPositions,
        int samples = 10, double noiseScale = 3.0, int seed = 0, TracedState state = TracedState.ResidPre, int? window = null)
    {
        if (subjectPositions.Count == 0) throw new GlassboxException("Causal tracing needs at least one subject position to corrupt.");
        if (samples < 1) throw new GlassboxException($"Causal tracing needs at least one noise sample, got {samples}.");
        int size = window ?? DefaultWindowFor(state);
        if (size < 1) throw new GlassboxException($"The restoration window must cover at least one layer, got {size}.");
        if (state == TracedState.MlpOut && model.Config.AttnOnly) throw new GlassboxException("This attention-only model has no mlp_out to restore.");
        using var scope = NewDisposeScope();
        using var task = new PatchingTask("causal tracing", tokens, tokens, metric);
        int L = model.Config.NLayers;
        long batch = tokens.shape[0], P = tokens.shape[1];
        if (subjectPositions.Any(p => p < 0 || p >= P)) throw new GlassboxException($"A subject position lies outside the {P}-token prompts.");
        double sigma = model.W_E.std().to(ScalarType.Float64).item<double>() * noiseScale;
        var positions = tensor(subjectPositions.Select(p => (long)p).ToArray(), device: model.Device);
        string shortName = ShortName(state);
        var (_, cache) = model.RunWithCache(tokens, $"blocks.*.hook_{shortName}");
        using (cache)
        {
            double clean = task.Measure(model, tokens);
            double noised = 0;
            var restored = new double[L, P];
            var windows = Enumerable.Range(0, L).Select(l => Window(l, size, L))
                .Select(w => string.Join(",", Enumerable.Range(w.First, w.Last - w.First + 1).Select(k => HookNames.Full(shortName, k)))).ToArray();
            var generator = new Generator((ulong)seed);
            for (int s = 0; s < samples; s++)
            {
                var noise = randn(new long[] { batch, subjectPositions.Count, model.Config.DModel }, generator: generator).to(model.DType, model.Device) * sigma;
                (string, HookFn) corrupt = ("hook_embed", (x, _) => x.index_add(1, positions, noise, 1.0));
                noised += task.Measure(model, tokens, corrupt) / samples;
                for (int l = 0; l < L; l++)
                    for (int p = 0; p < P; p++)
                    {
                        int position = p;
                        restored[l, p] += task.Measure(model, tokens, corrupt, (windows[l], (x, point) =>
                        {
                            var y = x.clone();
                            y[.., position] = cache[shortName, point.Layer!.Value][.., position];
                            return y;
                        })) / samples;
                    }
            }
            string restoredWhat = size == 1 ? shortName : $"{shortName} over {size}-layer windows";
            return new PatchingReport($"causal tracing, {restoredWhat} restored ({samples} samples, {noiseScale}σ)", metric.Name, clean, noised, noised,
                "layer", "position", ActivationPatching.Labels("L", L), ActivationPatching.Labels("", (int)P), restored);
        }
    }

    /// <summary>The positions where any clean prompt of the task differs from its corruption: the subject to add noise to.</summary>
    public static IReadOnlyList<int> DifferingPositions(PatchingTask task)
    {
        using var scope = NewDisposeScope();
        var differs = task.Clean.ne(task.Corrupted).any(0).cpu();
        return Enumerable.Range(0, (int)task.Positions).Where(p => differs[p].item<bool>()).ToArray();
    }

    static string ShortName(TracedState state) => state switch
    {
        TracedState.AttnOut => "attn_out",
        TracedState.MlpOut => "mlp_out",
        _ => "resid_pre",
    };

    public static TracedState ParseState(string text) => text.ToLowerInvariant() switch
    {
        "resid_pre" or "resid" => TracedState.ResidPre,
        "attn_out" or "attn" => TracedState.AttnOut,
        "mlp_out" or "mlp" => TracedState.MlpOut,
        _ => throw new GlassboxException($"Unknown causal-tracing state '{text}' (use resid_pre, attn_out or mlp_out)."),
    };
}
