using Glassbox.Models;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Features;

/// <summary>A token and its score in a vocabulary projection.</summary>
public sealed record TokenScore(int Id, string Token, double Value);

/// <summary>The tokens a direction promotes most (top) and suppresses most (bottom).</summary>
public sealed record TokenProjection(int Unit, IReadOnlyList<TokenScore> Top, IReadOnlyList<TokenScore> Bottom);

/// <summary>
/// Projects weight vectors onto the vocabulary without a forward pass (Geva et al. 2022, arXiv 2203.14680; §5.4 of the
/// technique reference). <see cref="Writes"/> serves everything that writes to the residual stream: a neuron's output
/// weights W_out[u] and an SAE latent's decoder row W_dec[i] (its logit effect) alike: scores = v W_U', where W_U' folds
/// the final norm's weight into the unembedding, and v is centred first under LayerNorm (which removes the mean).
/// <see cref="Reads"/> is the input side: which token embeddings, normalised as the reading norm does, excite a
/// reading vector (e.g. W_in[:, u]) most, N(W_E) (w ⊙ r), ignoring context.
/// </summary>
public static class VocabularyProjection
{
    /// <summary>Top and bottom <paramref name="k"/> tokens of <c>directions W_U'</c> for directions [n, d_model].</summary>
    public static IReadOnlyList<TokenProjection> Writes(HookedTransformer model, Tensor directions, IReadOnlyList<int> units, int k, ITokenizer? tokenizer)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var v = directions.to(model.DType, model.Device);
        if (model.Config.Norm == NormKind.LayerNorm) v = v - v.mean([-1], keepdim: true);
        var scores = (v * model.LnFinal.W).matmul(model.W_U);
        return Ranked(scores, units, k, tokenizer);
    }

    /// <summary>
    /// Top and bottom tokens of <c>N(W_E) (w ⊙ readers)</c> for reading vectors [d_model, n], where N normalises each
    /// embedding as <paramref name="norm"/> does (centre for LayerNorm, then divide by the RMS) and w is its weight.
    /// </summary>
    public static IReadOnlyList<TokenProjection> Reads(HookedTransformer model, Norm norm, Tensor readers, IReadOnlyList<int> units, int k, ITokenizer? tokenizer)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var e = model.W_E;
        if (model.Config.Norm == NormKind.LayerNorm) e = e - e.mean([-1], keepdim: true);
        e = e / e.square().mean([-1], keepdim: true).add(1e-5).sqrt();
        var scores = e.matmul(readers.to(model.DType, model.Device) * norm.W.unsqueeze(1)).t();
        return Ranked(scores, units, k, tokenizer);
    }

    /// <summary>Per row of <paramref name="scores"/> [n, vocab], its top and bottom k tokens.</summary>
    static IReadOnlyList<TokenProjection> Ranked(Tensor scores, IReadOnlyList<int> units, int k, ITokenizer? tokenizer)
    {
        k = (int)Math.Min(k, scores.shape[1]);
        var top = scores.topk(k, dim: 1);
        var bottom = scores.topk(k, dim: 1, largest: false);
        var (topValues, topIds) = (top.values.to(ScalarType.Float64).cpu().data<double>().ToArray(), top.indexes.cpu().data<long>().ToArray());
        var (bottomValues, bottomIds) = (bottom.values.to(ScalarType.Float64).cpu().data<double>().ToArray(), bottom.indexes.cpu().data<long>().ToArray());
        TokenScore Score(long id, double value) => new((int)id, tokenizer?.Display((int)id) ?? $"#{id}", value);
        return units.Select((unit, row) => new TokenProjection(unit,
            Enumerable.Range(row * k, k).Select(i => Score(topIds[i], topValues[i])).ToList(),
            Enumerable.Range(row * k, k).Select(i => Score(bottomIds[i], bottomValues[i])).ToList())).ToList();
    }
}
