using Glassbox.Features;
using Glassbox.Models;
using Glassbox.Sae;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Web.Views;

/// <summary>
/// One unit's page (Neuronpedia-style), for an MLP neuron or an SAE feature: the tokens its input weights read and its
/// output weights (or decoder row) promote or suppress, its top-activating contexts and density over a corpus sampled
/// from the model, the density histogram, and, on the prompt, its activation at every token and the most active units at
/// the last token.
/// </summary>
public sealed record NeuronResult(string Source, int Layer, int Neuron, int Neurons, string Corpus, UnitViews Views, IReadOnlyList<NeuronContext> Contexts,
    IReadOnlyList<string> Tokens, IReadOnlyList<double> Activations, IReadOnlyList<NeuronActivation> TopAtLastToken);

/// <summary>A top-activating context as tokens (so the page can show token boundaries whatever the vocabulary): before, at and after the peak.</summary>
public sealed record NeuronContext(double Activation, IReadOnlyList<string> Before, string Token, IReadOnlyList<string> After);

public sealed record NeuronActivation(int Neuron, double Activation);

public static class NeuronView
{
    public static NeuronResult Compute(HookedTransformer model, ITokenizer tokenizer, NeuronCorpus corpus, long[] ids, int layer, int? neuron)
    {
        int L = model.Config.NLayers;
        if (layer < 0 || layer >= L) throw new ApiException(400, $"layer {layer} does not exist; this model has layers 0..{L - 1}.");
        var mlp = model.Blocks[layer].Mlp ?? throw new ApiException(400, "This model has no MLP neurons (attention only).");
        int count = (int)mlp.W_out.shape[0];
        return Page("neurons", model, tokenizer, corpus, ids, layer, NeuronViews.HookName(layer), null, neuron, count,
            unit => $"neuron {unit} does not exist; layer {layer} has neurons 0..{count - 1}.",
            () => corpus.Store(model, tokenizer, layer, count),
            (unit, store) => NeuronViews.Build(model, layer, [unit], tokenizer, store, examples: NeuronCorpus.Examples));
    }

    /// <summary>The same page for a latent of the server's SAE (<c>--sae</c>): its encoder's activations and <see cref="SaeFeatureViews"/>.</summary>
    public static NeuronResult ComputeFeature(HookedTransformer model, ITokenizer tokenizer, NeuronCorpus corpus, SparseAutoencoder? sae, long[] ids, int? feature)
    {
        if (sae is null) throw new ApiException(400, "This server has no SAE for the loaded model; start it with --sae DIR (an SAE in SAELens layout).");
        int count = sae.Config.DSae;
        return Page("sae", model, tokenizer, corpus, ids, sae.Config.HookLayer, sae.Config.HookName, x => sae.Encode(x.to(sae.DType, sae.Device)), feature, count,
            unit => $"feature {unit} does not exist; the SAE at {sae.Config.HookName} has features 0..{count - 1}.",
            () => corpus.Store(model, tokenizer, sae),
            (unit, store) => SaeFeatureViews.Build(model, sae, [unit], tokenizer, store, examples: NeuronCorpus.Examples));
    }

    static NeuronResult Page(string source, HookedTransformer model, ITokenizer tokenizer, NeuronCorpus corpus, long[] ids, int layer, string hook,
        Func<Tensor, Tensor>? encode, int? requested, int count, Func<int, string> missing, Func<MaxActivationStore> openStore,
        Func<int, MaxActivationStore, UnitViews> build)
    {
        if (requested is { } r && (r < 0 || r >= count)) throw new ApiException(400, missing(r));
        var (_, cache) = model.RunWithCache(tensor(ids).unsqueeze(0), hook);
        using (cache)
        {
            var acts = cache[hook][0];
            var post = (encode is null ? acts : encode(acts)).to(ScalarType.Float64).cpu(); // [pos, units]
            var (values, indices) = post[-1].topk(Math.Min(10, count));
            var top = indices.data<long>().Zip(values.data<double>(), (n, a) => new NeuronActivation((int)n, a)).ToArray();
            int unit = requested ?? top[0].Neuron;
            var activations = post[.., unit].data<double>().ToArray();
            var store = openStore();
            var views = build(unit, store);
            string Show(long id) => tokenizer.Display((int)id);
            var contexts = store.Top(unit).Select(e => new NeuronContext(e.Activation, e.Tokens.Take(e.Position).TakeLast(12).Select(Show).ToArray(),
                Show(e.Tokens[e.Position]), e.Tokens.Skip(e.Position + 1).Take(4).Select(Show).ToArray())).ToArray();
            return new NeuronResult(source, layer, unit, count, corpus.Description, views, contexts, ids.Select(i => tokenizer.Display((int)i)).ToArray(), activations, top);
        }
    }
}
