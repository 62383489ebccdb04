using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Lens;

/// <summary>One layer's reading at one position: the top tokens and their probabilities.</summary>
public sealed record LensReading(int Layer, int[] TopTokens, double[] TopProbabilities);

/// <summary>
/// Logit lens (nostalgebraist 2020): decode the residual stream before each block and after the last,
/// <c>ℓ^l = N_f(x^l) W_U + b_U</c>, with the final norm's scale computed from <c>x^l</c> itself. The
/// reading after the last block is the model's own output distribution.
/// </summary>
public static class LogitLens
{
    /// <summary>Readings at <paramref name="position"/> (default: last) for l = 0..L: row l decodes <c>blocks.l.hook_resid_pre</c>, row L the final residual.</summary>
    public static IReadOnlyList<LensReading> AtPosition(HookedTransformer model, Tensor tokens, int position = -1, int topK = 5)
    {
        using var scope = NewDisposeScope();
        int L = model.Config.NLayers;
        var (_, cache) = model.RunWithCache(tokens, $"blocks.*.hook_resid_pre,blocks.{L - 1}.hook_resid_post");
        using (cache)
        {
            var readings = new List<LensReading>();
            for (int l = 0; l <= L; l++)
            {
                var resid = l < L ? cache["resid_pre", l] : cache["resid_post", L - 1];
                var probs = Decode(model, resid[0, position]).softmax(-1);
                var (values, indices) = probs.topk(topK);
                readings.Add(new LensReading(l, indices.data<long>().Select(i => (int)i).ToArray(),
                    values.to(ScalarType.Float64).data<double>().ToArray()));
            }
            return readings;
        }
    }

    /// <summary>Logits of a residual-stream vector (or batch of them) through the final norm and unembedding.</summary>
    public static Tensor Decode(HookedTransformer model, Tensor residual)
    {
        var normalized = model.LnFinal.Forward(residual);
        return Attention.Linear(normalized, model.W_U, model.b_U);
    }
}
