using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Mechanisms;

/// <summary>
/// Token-frequency neurons (Stolfo et al. 2024, arXiv 2406.16254): with φ the centred log unigram frequencies of a corpus
/// (add-one smoothed) and <c>v_f = φ W_U⁺</c> the residual direction whose logits best match φ (least squares),
/// score <c>cos(W_out[u], v_f)</c>: such a neuron moves the output toward (or away from) the unigram distribution.
/// Flagged: |cos| ≥ <c>minCosine</c>.
/// </summary>
public static class TokenFrequencyNeurons
{
    public static NeuronScoreReport Find(HookedTransformer model, IEnumerable<long[]> corpus, IReadOnlyList<int>? layers = null,
        int top = 10, double minCosine = 0.5)
    {
        using var scope = NewDisposeScope();
        var direction = FrequencyDirection(model, corpus);
        layers ??= [model.Config.NLayers - 1];
        var scores = new List<NeuronScore>();
        foreach (int l in layers)
        {
            var wOut = EntropyNeurons.MlpAt(model, l).W_out.to(ScalarType.Float64);
            var norm = wOut.norm(1, keepdim: false, p: 2);
            var cosine = matmul(wOut, direction) / (norm * direction.norm()).clamp_min(1e-300);
            var n = norm.data<double>().ToArray();
            var c = cosine.data<double>().ToArray();
            scores.AddRange(Enumerable.Range(0, n.Length).Select(i => new NeuronScore(l, i, n[i], c[i])));
        }
        var ranked = scores.OrderByDescending(s => Math.Abs(s.Score)).ToList();
        return new NeuronScoreReport("token-frequency neurons: cosine of each neuron's output with the unigram-frequency direction v_f",
            "cos", $"|cos| ≥ {minCosine}", ranked.Take(top).ToList(), ranked.TakeWhile(s => Math.Abs(s.Score) >= minCosine).ToList());
    }

    /// <summary><c>v_f</c> [d_model], float64: the least-squares solution of <c>v W_U ≈ φ</c>.</summary>
    public static Tensor FrequencyDirection(HookedTransformer model, IEnumerable<long[]> corpus)
    {
        int vocab = model.Config.VocabSize;
        var counts = new double[vocab];
        long tokens = 0;
        foreach (var sequence in corpus)
            foreach (var id in sequence)
            {
                if (id < 0 || id >= vocab) throw new GlassboxException($"Corpus token {id} is outside the vocabulary of {vocab}.");
                counts[id]++;
                tokens++;
            }
        if (tokens == 0) throw new GlassboxException("Token frequencies need a non-empty corpus.");
        var device = model.W_U.device;
        var logFrequency = tensor(counts.Select(c => Math.Log(c + 1)).ToArray(), device: device);
        var phi = logFrequency - logFrequency.mean();
        // v W_U ≈ φ ⇔ W_Uᵀ vᵀ ≈ φᵀ: least squares over the vocabulary.
        return linalg.lstsq(model.W_U.to(ScalarType.Float64).t(), phi.unsqueeze(1)).Solution.squeeze(1);
    }
}
