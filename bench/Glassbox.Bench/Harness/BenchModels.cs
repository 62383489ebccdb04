using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Bench.Harness;

/// <summary>The models suites run on: random weights (<see cref="RandomInit"/>) in real shapes, so no checkpoint is needed.</summary>
public static class BenchModels
{
    /// <summary>GPT-2 small: 12 layers, d_model 768, 12 heads, d_mlp 3072, vocab 50257, context 1024, LayerNorm, learned positions, gelu_new.</summary>
    public static ModelConfig Gpt2Small { get; } = new()
    {
        Architecture = "gpt2-small", NLayers = 12, DModel = 768, NHeads = 12, DMlp = 3072, VocabSize = 50257, ContextLength = 1024,
        Norm = NormKind.LayerNorm, Positional = PositionalKind.Learned, Act = Activation.GeluNew,
    };

    /// <summary>The same architecture, tiny: what <c>--quick</c> runs.</summary>
    public static ModelConfig Tiny { get; } = Gpt2Small with
    {
        Architecture = "gpt2-tiny", NLayers = 2, DModel = 64, NHeads = 4, DMlp = 256, VocabSize = 1000, ContextLength = 64,
    };

    public static HookedTransformer Create(ModelConfig cfg, long seed = 1234, ScalarType dtype = ScalarType.Float32)
    {
        using var weights = RandomInit.Create(cfg, seed);
        return new HookedTransformer(cfg, weights, dtype: dtype);
    }

    public static Tensor Tokens(ModelConfig cfg, int batch, int pos, long seed = 99) =>
        randint(0, cfg.VocabSize, new long[] { batch, pos }, generator: new Generator((ulong)seed));
}

/// <summary>
/// Analytic forward FLOPs (a multiply-add is 2): every weight matrix multiplies every token once
/// (2 · matmul parameters · tokens), attention computes full [pos, pos] scores and the pattern-weighted
/// sum (2 · 2 · batch · heads · pos² · d_head per layer; the causal mask does not save work), and the
/// unembedding is 2 · d_model · vocab per token. An MoE layer counts its router (d_model · experts) and the k experts each
/// token runs (gated: 3 · d_model · d_expert each), not the experts it skips. Norms, activations, softmax, soft-caps and
/// embedding lookups are not counted.
/// </summary>
public sealed record ForwardFlops(double Projections, double Mlp, double Attention, double Unembed)
{
    public double Total => Projections + Mlp + Attention + Unembed;

    public static ForwardFlops Of(ModelConfig cfg, long batch, long pos)
    {
        cfg = cfg.Validated();
        double tokens = batch * pos, d = cfg.DModel, dh = cfg.DHead, H = cfg.NHeads, Hkv = cfg.NKvHeads, L = cfg.NLayers;
        double attnParams = d * H * dh + 2 * d * Hkv * dh + H * dh * d;
        double dense = d * cfg.DMlp * (cfg.GatedMlp ? 3 : 2), sparse = d * cfg.NExperts + cfg.ExpertsPerToken * 3.0 * d * cfg.DExpert;
        double mlpParams = cfg.AttnOnly ? 0 : Enumerable.Range(0, cfg.NLayers).Sum(l => cfg.IsMoe(l) ? sparse : dense);
        return new ForwardFlops(
            Projections: 2 * attnParams * tokens * L,
            Mlp: 2 * mlpParams * tokens,
            Attention: 2 * 2 * batch * H * (double)pos * pos * dh * L,
            Unembed: 2 * d * cfg.VocabSize * tokens);
    }
}
