using Glassbox.Features;
using Glassbox.Models;
using Glassbox.Sae;
using Glassbox.Tokenization;

namespace Glassbox.Web;

/// <summary>
/// Max-activation stores for the neuron pages, one per layer (and one for the server's SAE), scanned on first use over text sampled from the model
/// (the same corpus as <c>glassbox neurons</c> without <c>--corpus</c>) and kept in a temporary folder until the server stops
/// or switches models. Used only under <see cref="ModelSession"/>'s gate.
/// </summary>
public sealed class NeuronCorpus : IDisposable
{
    public const int Sequences = 64, Length = 32, Examples = 10, Seed = 0;

    readonly string folder = Directory.CreateTempSubdirectory("glassbox-serve-").FullName;
    readonly Dictionary<int, MaxActivationStore> stores = new();
    MaxActivationStore? saeStore;
    IReadOnlyList<long[]>? sequences;

    public string Description => $"{Sequences} sequences of {Length} tokens sampled from the model (seed {Seed})";

    public MaxActivationStore Store(HookedTransformer model, ITokenizer tokenizer, int layer, int units)
    {
        if (stores.TryGetValue(layer, out var store)) return store;
        store = MaxActivationStore.Open(Path.Combine(folder, $"layer{layer}.sqlite"), NeuronViews.HookName(layer), units, Examples);
        MaxActivationScan.Run(model, NeuronViews.HookName(layer), null, Sample(model, tokenizer), store);
        return stores[layer] = store;
    }

    /// <summary>The SAE's latents over the same sampled text as the neurons.</summary>
    public MaxActivationStore Store(HookedTransformer model, ITokenizer tokenizer, SparseAutoencoder sae)
    {
        if (saeStore is not null) return saeStore;
        var store = SaeFeatureViews.OpenStore(Path.Combine(folder, "sae.sqlite"), sae, Examples);
        SaeFeatureViews.ScanLatents(model, sae, Sample(model, tokenizer), store);
        return saeStore = store;
    }

    IReadOnlyList<long[]> Sample(HookedTransformer model, ITokenizer tokenizer) =>
        sequences ??= TokenCorpus.Sample(model, tokenizer.BosId ?? model.Config.BosTokenId ?? 0, Sequences, Math.Min(Length, model.Config.ContextLength), Seed);

    public void Dispose()
    {
        foreach (var store in stores.Values) store.Dispose();
        stores.Clear();
        saeStore?.Dispose();
        saeStore = null;
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }
}
