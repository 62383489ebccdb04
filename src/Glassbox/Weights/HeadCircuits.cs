using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Weights;

/// <summary>
/// Every head's OV and QK circuits as <see cref="FactoredMatrix"/> stacks (Elhage et al. 2021, "A Mathematical Framework for
/// Transformer Circuits"), in float64 with row vectors: <c>W_OV = W_V W_O</c> and <c>W_QK = W_Q W_Kᵀ</c>, each <c>[head, d, d]</c>.
/// The reading norm is folded in as <c>P diag(γ) W</c> (<c>P</c> centres for LayerNorm; the scale <c>1/σ</c>, one positive
/// number per position, is left out), and grouped kv heads are repeated to their query heads. Full circuits go through the
/// vocabulary: OV <c>N(W_E) W_OV W_U'</c> and QK <c>N(W_E) W_QK N(W_E)ᵀ</c>, each <c>[head, V, V]</c> and factored through
/// <c>d_head</c>; <c>N</c> divides each embedding row by its norm statistic and <c>W_U' = P diag(γ_f) W_U</c>. Positions are
/// left out of the token circuits (learned <c>W_pos</c> has its own, <see cref="PositionalQK"/>; rotary offsets act inside W_QK). With <paramref name="effectiveEmbedding"/>, heads after layer 0 read the
/// effective embedding <c>W_E + MLP_0(W_E)</c> (McDougall et al. 2023; Gould et al. 2024): in GPT-2-like models the first MLP
/// acts as part of the embedding.
/// </summary>
public sealed class HeadCircuits(HookedTransformer model, bool effectiveEmbedding = false) : IDisposable
{
    const int EmbeddingChunk = 4096;
    Tensor? effective;

    /// <summary><c>P diag(γ) W</c> for the weights <c>W [.., d, ·]</c> read through <paramref name="norm"/>.</summary>
    Tensor ReadThrough(Norm norm, Tensor weight)
    {
        var w = weight.to(ScalarType.Float64) * norm.W.to(ScalarType.Float64).unsqueeze(-1);
        return model.Config.Norm == NormKind.LayerNorm ? w - w.mean(new long[] { -2 }, keepdim: true) : w;
    }

    Tensor PerQueryHead(Tensor kvWeight) =>
        model.Config.NKvHeads == model.Config.NHeads ? kvWeight : kvWeight.repeat_interleave(model.Config.NHeads / model.Config.NKvHeads, dim: 0);

    /// <summary><c>P diag(γ) W_Q</c>, <c>[head, d, d_head]</c>; likewise <see cref="Keys"/> and <see cref="Values"/>.</summary>
    public Tensor Queries(int layer) => ReadThrough(model.Blocks[layer].Ln1, model.Blocks[layer].Attn.W_Q);
    public Tensor Keys(int layer) => PerQueryHead(ReadThrough(model.Blocks[layer].Ln1, model.Blocks[layer].Attn.W_K));
    public Tensor Values(int layer) => PerQueryHead(ReadThrough(model.Blocks[layer].Ln1, model.Blocks[layer].Attn.W_V));
    public Tensor Outputs(int layer) => model.Blocks[layer].Attn.W_O.to(ScalarType.Float64);

    /// <summary><c>W_V W_O</c>, <c>[head, d, d]</c>.</summary>
    public FactoredMatrix OV(int layer) => new(Values(layer), Outputs(layer));

    /// <summary><c>W_Q W_Kᵀ</c>, <c>[head, d, d]</c>.</summary>
    public FactoredMatrix QK(int layer) => new(Queries(layer), Keys(layer).mT);

    /// <summary>
    /// The token embeddings a head of <paramref name="layer"/> reads, as the norm sees them: each row (centred for LayerNorm)
    /// divided by its RMS. The rows are <c>W_E</c>, or the effective embedding for layers after 0 when it was asked for.
    /// </summary>
    public Tensor NormalisedEmbedding(int layer = 0) => Normalised(UseEffective(layer) ? EffectiveEmbedding() : model.W_E.to(ScalarType.Float64));

    /// <summary>Rows as the norm sees them: centred for LayerNorm, divided by their RMS.</summary>
    Tensor Normalised(Tensor rows)
    {
        if (model.Config.Norm == NormKind.LayerNorm) rows = rows - rows.mean(new long[] { -1 }, keepdim: true);
        return rows / rows.square().mean(new long[] { -1 }, keepdim: true).sqrt().clamp_min(1e-12);
    }

    bool UseEffective(int layer) => effectiveEmbedding && layer > 0 && model.Blocks[0].Mlp is not null;

    /// <summary><c>W_E + MLP_0(N_2(W_E))</c>, <c>[V, d]</c> in float64: each token alone through block 0's MLP (no position, no attention).</summary>
    public Tensor EffectiveEmbedding()
    {
        if (effective is not null) return effective;
        var block = model.Blocks[0];
        var mlp = block.Mlp ?? throw new GlassboxException("The model has no MLP in block 0, so its effective embedding is W_E itself.");
        using var noGrad = no_grad();
        var rows = new List<Tensor>();
        for (long start = 0; start < model.Config.VocabSize; start += EmbeddingChunk)
        {
            using var scope = NewDisposeScope();
            var e = model.W_E.narrow(0, start, Math.Min(EmbeddingChunk, model.Config.VocabSize - start)).unsqueeze(0);
            rows.Add((e + mlp.Forward(block.Ln2!.Forward(e)))[0].to(ScalarType.Float64).MoveToOuterDisposeScope());
        }
        return effective = cat(rows, 0).DetachFromDisposeScope();
    }

    /// <summary><c>P diag(γ_f) W_U</c>, <c>[d, V]</c>: the unembedding with the final norm's weight folded in.</summary>
    public Tensor Unembedding() => ReadThrough(model.LnFinal, model.W_U);

    /// <summary><c>N(W_E) W_OV W_U'</c>, <c>[head, V, V]</c>: row <c>s</c> holds the logits a head raises when it attends to token <c>s</c>.</summary>
    public FactoredMatrix FullOV(int layer) => OV(layer).After(NormalisedEmbedding(layer)).Then(Unembedding());

    /// <summary><c>N(W_E) W_QK N(W_E)ᵀ</c>, <c>[head, V, V]</c>: entry <c>(q, k)</c> is the attention score of query token <c>q</c> on key token <c>k</c>.</summary>
    public FactoredMatrix FullQK(int layer)
    {
        var e = NormalisedEmbedding(layer);
        return QK(layer).After(e).Then(e.mT);
    }

    /// <summary>
    /// <c>N(W_pos) W_QK N(W_pos)ᵀ</c>, <c>[head, n_ctx, n_ctx]</c>: the score query position q gives key position k from learned
    /// positions alone (Elhage et al. 2021's positional QK term). Rotary models have none: their positions act inside the product.
    /// </summary>
    public FactoredMatrix PositionalQK(int layer)
    {
        var positions = model.W_pos ?? throw new GlassboxException("This model has no learned position embeddings (rotary positions act inside W_QK).");
        var p = Normalised(positions.to(ScalarType.Float64));
        return QK(layer).After(p).Then(p.mT);
    }

    /// <summary>
    /// The positional QK circuit's mean score at each offset <c>q − k</c> = 0 … <paramref name="offsets"/> − 1, each query row first
    /// centred on its causal keys (softmax ignores a row's shift), over the queries that have every offset: <c>[head, offsets]</c>.
    /// A previous-token head built from positions peaks at offset 1.
    /// </summary>
    public double[,] PositionalOffsetScores(int layer, int offsets = 5)
    {
        using var scope = NewDisposeScope();
        var scores = PositionalQK(layer).Dense();
        long n = scores.shape[^1];
        if (offsets < 1 || offsets > n) throw new GlassboxException($"Offsets must be between 1 and the context ({n}), got {offsets}.");
        var causal = ones(n, n, dtype: ScalarType.Float64, device: scores.device).tril();
        var centred = scores - ((scores * causal).sum(-1) / causal.sum(-1)).unsqueeze(-1);
        var result = new double[scores.shape[0], offsets];
        for (int delta = 0; delta < offsets; delta++)
        {
            // diagonal −δ holds (q = k + δ, k); keep the queries q ≥ offsets − 1 so every offset averages the same rows.
            var means = centred.diagonal(-delta, -2, -1)[.., (offsets - 1 - delta)..].mean(new long[] { -1 }).cpu().data<double>().ToArray();
            for (int h = 0; h < means.Length; h++) result[h, delta] = means[h];
        }
        return result;
    }

    /// <summary>
    /// Copying score per head of a layer, <c>[head]</c> (Elhage et al. 2021): <c>Σ Re λ / Σ |λ|</c> over the eigenvalues of the full OV
    /// circuit, computed as those of the <c>[d_head, d_head]</c> matrix <c>W_O W_U' N(W_E) W_V</c>; in [−1, 1], positive for heads
    /// that raise the attended token's logit, negative for heads that suppress it.
    /// </summary>
    public double[] CopyingScores(int layer)
    {
        using var scope = NewDisposeScope();
        return CopyingScore(FullOV(layer).Eigenvalues()).cpu().data<double>().ToArray();
    }

    /// <summary><c>Σ Re λ / Σ |λ|</c> over the last dimension of complex eigenvalues.</summary>
    public static Tensor CopyingScore(Tensor eigenvalues) => eigenvalues.real.sum(-1) / eigenvalues.abs().sum(-1).clamp_min(1e-30);

    /// <summary>Frees the cached effective embedding.</summary>
    public void Dispose() => effective?.Dispose();
}
