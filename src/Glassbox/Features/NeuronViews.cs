using Glassbox.Models;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Features;

/// <summary>
/// MLP neurons of one layer seen through the vocabulary (Geva et al. 2022): the tokens whose normalised embeddings
/// excite the neuron's input weights W_in[:, u] most, the tokens its output weights W_out[u] promote and suppress
/// (<see cref="VocabularyProjection"/>), and, given a store scanned at <c>blocks.{l}.mlp.hook_post</c>, its top contexts.
/// </summary>
public static class NeuronViews
{
    public static string HookName(int layer) => $"blocks.{layer}.mlp.hook_post";

    public static UnitViews Build(HookedTransformer model, int layer, IReadOnlyList<int> neurons, ITokenizer? tokenizer, MaxActivationStore? store, int topTokens = 10, int examples = 10)
    {
        if (layer < 0 || layer >= model.Config.NLayers) throw new GlassboxException($"Layer {layer} is outside [0, {model.Config.NLayers}).");
        var block = model.Blocks[layer];
        var mlp = block.Mlp ?? throw new GlassboxException($"Layer {layer} has no MLP (attention-only model).");
        long dMlp = mlp.W_out.shape[0];
        foreach (int n in neurons) if (n < 0 || n >= dMlp) throw new GlassboxException($"Neuron {n} is outside [0, {dMlp}) of layer {layer}.");
        if (store is not null && store.Source != HookName(layer))
            throw new GlassboxException($"The store holds {store.Source}, not {HookName(layer)}.");
        using var scope = NewDisposeScope();
        using var index = tensor(neurons.Select(n => (long)n).ToArray(), device: model.Device);
        var inputs = VocabularyProjection.Reads(model, block.Ln2!, mlp.W_in.index_select(1, index), neurons, topTokens, tokenizer);
        var outputs = VocabularyProjection.Writes(model, mlp.W_out.index_select(0, index), neurons, topTokens, tokenizer);
        return UnitViews.Build(HookName(layer), neurons, inputs, outputs, store, tokenizer, examples);
    }
}
