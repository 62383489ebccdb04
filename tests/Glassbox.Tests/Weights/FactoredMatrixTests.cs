using Glassbox.Tests.Models;
using Glassbox.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Tests.Weights;

/// <summary>Every factored computation against the dense matrix it stands for, on random float64 matrices.</summary>
public class FactoredMatrixTests
{
    static Tensor Random(Generator g, params long[] shape) => randn(shape, ScalarType.Float64, generator: g);

    [Fact]
    public void ProductsNormsAndRowsMatchTheDenseMatrix()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(11);
        var a = new FactoredMatrix(Random(g, 3, 20, 5), Random(g, 3, 5, 17));
        var b = new FactoredMatrix(Random(g, 3, 17, 4), Random(g, 3, 4, 9));
        var dense = a.Dense();
        Assert.True(a.Then(b).Dense().allclose(dense.matmul(b.Dense()), rtol: 1e-10, atol: 1e-10));
        Assert.Equal(4, a.Then(b).Inner);
        Assert.True(a.Transpose().Dense().allclose(dense.mT));
        Assert.True(a.FrobeniusNorm().allclose(linalg.matrix_norm(dense), rtol: 1e-10));
        var rows = tensor(new long[] { 19, 0, 7 });
        Assert.True(a.RowsAt(rows).allclose(dense.index_select(1, rows), rtol: 1e-10, atol: 1e-10));
    }

    [Fact]
    public void SvdMatchesTheDenseSingularValuesAndReconstructs()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(12);
        var m = new FactoredMatrix(Random(g, 30, 6), Random(g, 6, 25));
        var (u, s, vh) = m.Svd();
        var denseS = linalg.svdvals(m.Dense())[..6];
        Assert.True(s.allclose(denseS, rtol: 1e-9, atol: 1e-9));
        Assert.True((u * s.unsqueeze(0)).matmul(vh).allclose(m.Dense(), rtol: 1e-9, atol: 1e-9));
        Assert.True(u.mT.matmul(u).allclose(eye(6, dtype: ScalarType.Float64), atol: 1e-9));
    }

    [Fact]
    public void EigenvaluesAreTheDenseMatrixsNonZeroEigenvalues()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(13);
        var m = new FactoredMatrix(Random(g, 12, 4), Random(g, 4, 12));
        var factored = Sorted(m.Eigenvalues());
        var dense = linalg.eigvals(m.Dense());
        var nonZero = Sorted(dense[dense.abs() > 1e-8]);
        Assert.Equal(4, nonZero.Length);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(nonZero[i].Real, factored[i].Real, 8);
            Assert.Equal(nonZero[i].Imaginary, factored[i].Imaginary, 8);
        }
        Assert.True(m.Diagonal().allclose(m.Dense().diagonal(), rtol: 1e-10, atol: 1e-10));
    }

    static System.Numerics.Complex[] Sorted(Tensor complexValues)
    {
        var re = complexValues.real.contiguous().data<double>().ToArray();
        var im = complexValues.imag.contiguous().data<double>().ToArray();
        return re.Zip(im, (r, i) => new System.Numerics.Complex(r, i)).OrderBy(c => Math.Round(c.Real, 6)).ThenBy(c => c.Imaginary).ToArray();
    }

    [Fact]
    public void TopEntriesMatchABruteForceScanAcrossRowChunks()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(14);
        var m = new FactoredMatrix(Random(g, 50, 3), Random(g, 3, 40));
        var dense = m.Dense().data<double>().ToArray();
        foreach (bool largest in new[] { true, false })
        {
            var expected = dense.Select((v, i) => (Row: (long)(i / 40), Column: (long)(i % 40), Value: v))
                .OrderBy(e => largest ? -e.Value : e.Value).Take(7).ToArray();
            Assert.Equal(expected, m.TopEntries(7, largest, rowChunk: 8));
        }
    }

    [Fact]
    public void CompositionIsOneForAlignedRankOneMapsAndZeroForOrthogonalOnes()
    {
        using var scope = NewDisposeScope();
        var e0 = zeros(6, 1, dtype: ScalarType.Float64); e0[0, 0] = 1;
        var e1 = zeros(6, 1, dtype: ScalarType.Float64); e1[1, 0] = 1;
        // Writer writes along e0; one reader reads e0 (aligned), one reads e1 (orthogonal); scaling does not matter.
        var writers = new FactoredMatrix((3.0 * e1).unsqueeze(0), e0.mT.unsqueeze(0));
        var readers = new FactoredMatrix(stack(new[] { e0, 0.5 * e1 }), stack(new[] { e1.mT, e1.mT }));
        var scores = CompositionScores.Scores(writers, readers).data<double>().ToArray();
        Assert.Equal(1.0, scores[0], 12);
        Assert.Equal(0.0, scores[1], 12);
    }

    [Fact]
    public void CopyingScoreIsTheSignOfAScaledIdentity()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(15);
        var embed = Random(g, 30, 8);
        foreach (double c in new[] { 2.5, -0.3 })
        {
            // Full OV E (c I) Eᵀ: W_U = W_Eᵀ and W_OV = c I.
            var full = new FactoredMatrix(embed, c * embed.mT);
            Assert.Equal(Math.Sign(c), HeadCircuits.CopyingScore(full.Eigenvalues()).item<double>(), 10);
        }
    }

    [Fact]
    public void FullCircuitsEqualTheDenseProductThroughTheFoldedNorms()
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var circuits = new HeadCircuits(model);
        int layer = 1, head = 2;
        var blk = model.Blocks[layer];
        var e = model.W_E - model.W_E.mean(new long[] { -1 }, keepdim: true);
        e = e / e.square().mean(new long[] { -1 }, keepdim: true).sqrt();
        var centre = eye(model.Config.DModel, dtype: ScalarType.Float64) - 1.0 / model.Config.DModel;
        var wv = centre.matmul(blk.Ln1.W.unsqueeze(1) * blk.Attn.W_V[head]);
        var wu = centre.matmul(model.LnFinal.W.unsqueeze(1) * model.W_U);
        var dense = e.matmul(wv).matmul(blk.Attn.W_O[head]).matmul(wu);
        Assert.True(circuits.FullOV(layer).Dense()[head].allclose(dense, rtol: 1e-9, atol: 1e-9));
        var wq = centre.matmul(blk.Ln1.W.unsqueeze(1) * blk.Attn.W_Q[head]);
        var wk = centre.matmul(blk.Ln1.W.unsqueeze(1) * blk.Attn.W_K[head]);
        Assert.True(circuits.FullQK(layer).Dense()[head].allclose(e.matmul(wq).matmul(wk.mT).matmul(e.mT), rtol: 1e-9, atol: 1e-9));
    }

    /// <summary>Techniques §5.4: a head's vocabulary projections factor through d_head, so their dense matrices have rank ≤ d_head.</summary>
    [Fact]
    public void FullCircuitsHaveRankAtMostDHead()
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var circuits = new HeadCircuits(model);
        int dHead = model.Config.DHead;
        Assert.True(model.Config.VocabSize > dHead, "the test needs more tokens than d_head");
        foreach (var full in new[] { circuits.FullOV(1).Dense(), circuits.FullQK(1).Dense() })
        {
            var s = linalg.svdvals(full); // [head, V], descending
            Assert.True((s[.., dHead..] <= 1e-9 * s[.., ..1]).all().item<bool>(), "a singular value beyond d_head is not zero");
            Assert.True((s[.., dHead - 1] > 1e-6 * s[.., 0]).all().item<bool>(), "the first d_head singular values should be non-zero for random weights");
        }
    }

    /// <summary>
    /// The effective embedding of token t is what the residual holds after block 0 when only the token is there: run t with
    /// the position embedding and block 0's attention output zeroed, and W_E[t] + hook_mlp_out is its row. Heads of layer 0
    /// keep reading W_E; later heads read the effective rows.
    /// </summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void TheEffectiveEmbeddingIsTheTokenThroughTheFirstMlpAlone(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var circuits = new HeadCircuits(model, effectiveEmbedding: true);
        var effective = circuits.EffectiveEmbedding();
        var tokens = tensor(new long[] { 5, 17, 42 }).unsqueeze(1);
        Glassbox.Hooks.HookFn zero = (x, _) => zeros_like(x);
        using var attention = model.Hooks.Add("blocks.0.hook_attn_out", zero);
        using var position = model.W_pos is null ? null : model.Hooks.Add("hook_pos_embed", zero);
        var (_, cache) = model.RunWithCache(tokens, "blocks.0.hook_mlp_out");
        using (cache)
            Assert.True((model.W_E.index_select(0, tokens.squeeze(1)) + cache["blocks.0.hook_mlp_out"][.., 0] - effective.index_select(0, tokens.squeeze(1))).abs().max().item<double>() < 1e-10);

        using var plain = new HeadCircuits(model);
        Assert.True(circuits.FullOV(0).Dense().allclose(plain.FullOV(0).Dense()));
        Assert.False(circuits.FullOV(1).Dense().allclose(plain.FullOV(1).Dense()));
        var e = effective - (model.Config.Norm == Glassbox.Models.NormKind.LayerNorm ? effective.mean([-1], keepdim: true) : zeros(1, dtype: ScalarType.Float64));
        e = e / e.square().mean([-1], keepdim: true).sqrt();
        Assert.True(circuits.NormalisedEmbedding(1).allclose(e, rtol: 1e-12, atol: 1e-12));
    }
}
