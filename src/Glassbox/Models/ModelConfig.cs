namespace Glassbox.Models;

/// <summary>Identity: no normalisation at all (OLMo 2 has no pre-norms); its hooks see the input unchanged.</summary>
public enum NormKind { LayerNorm, RmsNorm, Identity }

/// <summary>
/// RMSNorm of queries and keys after their projection, before rotary: over each head's d_head (Qwen3, Gemma 3) or over
/// the whole projection of every head at once (OLMo 2).
/// </summary>
public enum QkNormKind { None, PerHead, Joint }

/// <summary>How rotary frequencies are rescaled for a longer context (Hugging Face <c>rope_scaling</c>).</summary>
public enum RopeScalingKind { Linear, Llama3 }

/// <summary>
/// <c>rope_scaling</c>: Linear divides every frequency by <see cref="Factor"/> (positions / factor); Llama3 keeps the
/// high frequencies, divides the low ones by the factor and interpolates between (Llama 3.1).
/// </summary>
public sealed record RopeScaling(RopeScalingKind Kind, double Factor, double LowFreqFactor = 1, double HighFreqFactor = 4,
    int OriginalContext = 8192);

public enum PositionalKind { Learned, Rotary }

/// <summary>How rotary embeddings pair up the elements of a head: llama2.c and GPT-J rotate adjacent
/// pairs (2j, 2j+1); Hugging Face Llama and GPT-NeoX rotate halves (j, j + rotary_dim/2).</summary>
public enum RotaryLayout { Pairs, Halves }

public enum Activation { GeluNew, Gelu, Relu, Silu }

/// <summary>
/// Everything that varies between the supported architectures, in one immutable record.
/// The transformer is driven entirely by it; adapters translate a checkpoint's own config into it.
/// </summary>
public sealed record ModelConfig
{
    public required string Architecture { get; init; }
    public required int NLayers { get; init; }
    public required int DModel { get; init; }
    public required int NHeads { get; init; }
    /// <summary>Key/value heads; equal to <see cref="NHeads"/> without grouped-query attention.</summary>
    public int NKvHeads { get; init; }
    public int DHead { get; init; }
    public required int DMlp { get; init; }
    public required int VocabSize { get; init; }
    /// <summary>Longest sequence the model accepts (learned positions or the trained context).</summary>
    public required int ContextLength { get; init; }
    public NormKind Norm { get; init; } = NormKind.LayerNorm;
    public double NormEps { get; init; } = 1e-5;
    public PositionalKind Positional { get; init; } = PositionalKind.Learned;
    public RotaryLayout RotaryLayout { get; init; } = RotaryLayout.Halves;
    /// <summary>Fraction of each head's dimensions that rotary embeddings rotate (GPT-NeoX: rotary_pct).</summary>
    public double RotaryFraction { get; init; } = 1.0;
    public double RotaryTheta { get; init; } = 10000.0;
    public Activation Act { get; init; } = Activation.GeluNew;
    /// <summary>Gated MLP: post = act(x W_gate) * (x W_in), as in SwiGLU.</summary>
    public bool GatedMlp { get; init; }
    /// <summary>No MLPs: resid_post = resid_pre + attn(ln1(x)) (TransformerLens's attn-only toy models).</summary>
    public bool AttnOnly { get; init; }
    /// <summary>GPT-NeoX style: resid_post = resid_pre + attn(ln1(x)) + mlp(ln2(x)).</summary>
    public bool ParallelAttnMlp { get; init; }
    public bool TiedEmbeddings { get; init; }
    /// <summary>Pre-norms ln1 and ln2 exist (false for OLMo 2, whose block norms only follow attention and the MLP).</summary>
    public bool PreNorms { get; init; } = true;
    /// <summary>Gemma 2/3, OLMo 2: ln1_post and ln2_post normalise the attention and MLP outputs before they join the residual.</summary>
    public bool PostNorms { get; init; }
    public QkNormKind QkNorm { get; init; } = QkNormKind.None;
    /// <summary>OLMo's clip_qkv: queries, keys and values are clamped to [−c, c] after projection.</summary>
    public double? QkvClip { get; init; }
    /// <summary>Attention score multiplier; null: 1/√d_head (Gemma 2/3: query_pre_attn_scalar^−½).</summary>
    public double? AttnScale { get; init; }
    /// <summary>Gemma 2: scores become c·tanh(s/c) after scaling, before the mask.</summary>
    public double? AttnSoftcap { get; init; }
    /// <summary>Gemma 2: logits become c·tanh(z/c).</summary>
    public double? FinalSoftcap { get; init; }
    /// <summary>Attention window W: query i sees keys j with i − W &lt; j ≤ i (W positions including itself).</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>Which layers use <see cref="SlidingWindow"/> (Gemma's local layers); null: every layer.</summary>
    public IReadOnlyList<bool>? SlidingLayers { get; init; }
    public RopeScaling? RopeScaling { get; init; }
    /// <summary>Gemma 3: the sliding-window layers' rotary base, used without <see cref="RopeScaling"/>.</summary>
    public double? LocalRotaryTheta { get; init; }
    /// <summary>Sparse mixture of experts (Mixtral, Qwen3-MoE): experts per MoE layer, 0 for dense models.</summary>
    public int NExperts { get; init; }
    public int ExpertsPerToken { get; init; }
    /// <summary>Width of each expert's gated MLP.</summary>
    public int DExpert { get; init; }
    /// <summary>Renormalise the kept top-k router probabilities to sum to 1 (Mixtral always; Qwen3-MoE's norm_topk_prob).</summary>
    public bool NormTopKProb { get; init; } = true;
    /// <summary>Which layers are MoE; null: every layer when <see cref="NExperts"/> &gt; 0.</summary>
    public IReadOnlyList<bool>? MoeLayers { get; init; }
    /// <summary>Token ids of beginning and end of sequence, when the checkpoint declares them.</summary>
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }

    /// <summary>Rotated dimensions per head: int(d_head · fraction), truncated as Hugging Face does.</summary>
    public int RotaryDim => Positional == PositionalKind.Rotary ? (int)(DHead * RotaryFraction) : 0;

    public bool IsSliding(int layer) => SlidingWindow is not null && (SlidingLayers?[layer] ?? true);

    public int? WindowOf(int layer) => IsSliding(layer) ? SlidingWindow : null;

    public bool IsMoe(int layer) => NExperts > 0 && (MoeLayers?[layer] ?? true);

    /// <summary>The rotary base and scaling of one layer (Gemma 3's local layers differ from its global ones).</summary>
    public (double Theta, RopeScaling? Scaling) RotaryOf(int layer) =>
        LocalRotaryTheta is { } local && IsSliding(layer) ? (local, null) : (RotaryTheta, RopeScaling);

    /// <summary>Fills derived fields (d_head, kv heads) and checks that the numbers fit together.</summary>
    public ModelConfig Validated()
    {
        var c = this with
        {
            NKvHeads = NKvHeads == 0 ? NHeads : NKvHeads,
            DHead = DHead == 0 && NHeads > 0 ? DModel / NHeads : DHead,
        };
        void Require(bool ok, string what) { if (!ok) throw new ModelFormatException($"Invalid model config ({Architecture}): {what}."); }
        Require(c.NLayers > 0, $"n_layers must be positive, got {c.NLayers}");
        Require(c.DModel > 0, $"d_model must be positive, got {c.DModel}");
        Require(c.NHeads > 0, $"n_heads must be positive, got {c.NHeads}");
        Require(c.DHead > 0, $"d_head must be positive, got {c.DHead}");
        Require(c.NKvHeads > 0 && c.NHeads % c.NKvHeads == 0, $"n_heads ({c.NHeads}) must be a multiple of n_kv_heads ({c.NKvHeads})");
        Require(c.AttnOnly || c.DMlp > 0 || (c.NExperts > 0 && c.MoeLayers is null), $"d_mlp must be positive, got {c.DMlp}");
        Require(c.VocabSize > 0, $"vocab_size must be positive, got {c.VocabSize}");
        Require(c.ContextLength > 0, $"context length must be positive, got {c.ContextLength}");
        Require(c.NormEps > 0, $"norm epsilon must be positive, got {c.NormEps}");
        Require(c.SlidingWindow is null || c.SlidingWindow > 0, $"sliding window must be positive, got {c.SlidingWindow}");
        Require(c.SlidingLayers is null || c.SlidingLayers.Count == c.NLayers, $"layer types name {c.SlidingLayers?.Count} layers, the model has {c.NLayers}");
        Require(c.AttnScale is null || c.AttnScale > 0, $"attention scale must be positive, got {c.AttnScale}");
        Require(c.AttnSoftcap is null || c.AttnSoftcap > 0, $"attention soft-cap must be positive, got {c.AttnSoftcap}");
        Require(c.FinalSoftcap is null || c.FinalSoftcap > 0, $"final logit soft-cap must be positive, got {c.FinalSoftcap}");
        Require(c.QkvClip is null || c.QkvClip > 0, $"clip_qkv must be positive, got {c.QkvClip}");
        if (c.NExperts > 0)
        {
            Require(c.ExpertsPerToken > 0 && c.ExpertsPerToken <= c.NExperts, $"experts per token must be in [1, {c.NExperts}], got {c.ExpertsPerToken}");
            Require(c.DExpert > 0, $"expert width must be positive, got {c.DExpert}");
            Require(c.MoeLayers is null || c.MoeLayers.Count == c.NLayers, $"MoE layers name {c.MoeLayers?.Count} layers, the model has {c.NLayers}");
        }
        if (c.RopeScaling is { } rs)
            Require(rs.Factor > 0 && (rs.Kind != RopeScalingKind.Llama3 || (rs.HighFreqFactor > rs.LowFreqFactor && rs.OriginalContext > 0)),
                $"rope_scaling {rs} is inconsistent");
        if (c.Positional == PositionalKind.Rotary)
        {
            Require(c.RotaryFraction > 0 && c.RotaryFraction <= 1, $"rotary fraction must be in (0, 1], got {c.RotaryFraction}");
            Require(c.RotaryDim % 2 == 0, $"rotary dimension {c.RotaryDim} must be even");
        }
        return c;
    }

    public override string ToString() =>
        $"{Architecture}: {NLayers} layers, d_model {DModel}, {NHeads} heads ({NKvHeads} kv) of {DHead}, d_mlp {DMlp}{(GatedMlp ? " gated" : "")}, " +
        $"vocab {VocabSize}, context {ContextLength}, {Norm} eps {NormEps:g}, {Positional}" +
        (Positional == PositionalKind.Rotary ? $" ({RotaryLayout}, dim {RotaryDim}, theta {RotaryTheta:g})" : "") +
        $", {(AttnOnly ? "attention only" : Act.ToString())}{(ParallelAttnMlp ? ", parallel attn+mlp" : "")}{(TiedEmbeddings ? ", tied embeddings" : "")}" +
        (RopeScaling is { } rs ? $", rope scaling {rs.Kind} ×{rs.Factor:g}" : "") +
        (SlidingWindow is { } w ? $", sliding window {w}" + (SlidingLayers is { } sl ? $" on layers {string.Join(",", Enumerable.Range(0, NLayers).Where(l => sl[l]))}" : "") : "") +
        (LocalRotaryTheta is { } lt ? $", local theta {lt:g}" : "") +
        (!PreNorms ? ", no pre-norms" : "") + (PostNorms ? ", post-norms" : "") + (QkNorm != QkNormKind.None ? $", q/k norm {QkNorm}" : "") +
        (QkvClip is { } clip ? $", clip qkv {clip:g}" : "") + (AttnScale is { } sc ? $", attention scale {sc:g}" : "") +
        (AttnSoftcap is { } ac ? $", attention soft-cap {ac:g}" : "") + (FinalSoftcap is { } fc ? $", logit soft-cap {fc:g}" : "") +
        (NExperts > 0 ? $", {NExperts} experts (top {ExpertsPerToken}{(NormTopKProb ? ", renormalised" : "")}) of {DExpert}" : "");
}
