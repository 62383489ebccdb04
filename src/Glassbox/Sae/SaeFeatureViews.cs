using Glassbox.Features;
using Glassbox.Models;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Sae;

/// <summary>
/// Feature views of SAE latents (as on Neuronpedia): the logit effect W_dec[i] W_U' (top and bottom tokens, through
/// <see cref="VocabularyProjection"/>, for SAEs that write to the residual stream), and, from a store scanned with
/// <see cref="ScanLatents"/>, each latent's top contexts and density.
/// </summary>
public static class SaeFeatureViews
{
    public static string Source(SparseAutoencoder sae) => "sae:" + sae.Config.HookName;

    public static UnitViews Build(HookedTransformer model, SparseAutoencoder sae, IReadOnlyList<int> latents, ITokenizer? tokenizer, MaxActivationStore? store, int topTokens = 10, int examples = 10)
    {
        foreach (int i in latents) if (i < 0 || i >= sae.Config.DSae) throw new GlassboxException($"Latent {i} is outside [0, {sae.Config.DSae}).");
        if (sae.W_dec.shape[1] != model.Config.DModel)
            throw new GlassboxException($"The SAE writes {sae.W_dec.shape[1]}-wide vectors, not the residual stream's {model.Config.DModel}: no logit effect.");
        if (store is not null && store.Source != Source(sae)) throw new GlassboxException($"The store holds {store.Source}, not {Source(sae)}.");
        using var scope = NewDisposeScope();
        using var index = tensor(latents.Select(n => (long)n).ToArray(), device: sae.Device);
        var outputs = VocabularyProjection.Writes(model, sae.W_dec.index_select(0, index), latents, topTokens, tokenizer);
        return UnitViews.Build(Source(sae), latents, null, outputs, store, tokenizer, examples);
    }

    /// <summary>Scans the corpus for every latent's top contexts and density into <paramref name="store"/> (resumable).</summary>
    public static void ScanLatents(HookedTransformer model, SparseAutoencoder sae, IReadOnlyList<long[]> sequences, MaxActivationStore store, IProgress<ScanProgress>? progress = null) =>
        MaxActivationScan.Run(model, sae.Config.HookName, x => sae.Encode(x.to(sae.DType, sae.Device)), sequences, store, progress: progress);

    public static MaxActivationStore OpenStore(string path, SparseAutoencoder sae, int k) => MaxActivationStore.Open(path, Source(sae), sae.Config.DSae, k);
}
