using Glassbox.Features;
using Glassbox.Models;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Web.Views;

/// <summary>
/// One MLP neuron's page (Neuronpedia-style): the tokens its input weights read and its output weights promote or suppress,
/// its top-activating contexts and density over a corpus sampled from the model, the layer's density histogram, and, on the
/// prompt, its activation at every token and the layer's most active neurons at the last token.
/// </summary>
public sealed record NeuronResult(int Layer, int Neuron, int Neurons, string Corpus, UnitViews Views, IReadOnlyList<NeuronContext> Contexts,
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
        string hook = NeuronViews.HookName(layer);
        var (_, cache) = model.RunWithCache(tensor(ids).unsqueeze(0), hook);
        using (cache)
        {
            var post = cache[hook][0].to(ScalarType.Float64).cpu(); // [pos, d_mlp]
            var (values, indices) = post[-1].topk(10);
            var top = indices.data<long>().Zip(values.data<double>(), (n, a) => new NeuronActivation((int)n, a)).ToArray();
            int unit = neuron ?? top[0].Neuron;
            if (unit < 0 || unit >= count) throw new ApiException(400, $"neuron {unit} does not exist; layer {layer} has neurons 0..{count - 1}.");
            var activations = post[.., unit].data<double>().ToArray();
            var store = corpus.Store(model, tokenizer, layer, count);
            var views = NeuronViews.Build(model, layer, [unit], tokenizer, store, examples: NeuronCorpus.Examples);
            string Show(long id) => tokenizer.Display((int)id);
            var contexts = store.Top(unit).Select(e => new NeuronContext(e.Activation, e.Tokens.Take(e.Position).TakeLast(12).Select(Show).ToArray(),
                Show(e.Tokens[e.Position]), e.Tokens.Skip(e.Position + 1).Take(4).Select(Show).ToArray())).ToArray();
            return new NeuronResult(layer, unit, count, corpus.Description, views, contexts, ids.Select(i => tokenizer.Display((int)i)).ToArray(), activations, top);
        }
    }
}
