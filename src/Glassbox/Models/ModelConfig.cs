namespace Glassbox.Models;

public enum NormKind { LayerNorm, RmsNorm }

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
    /// <summary>Token ids of beginning and end of sequence, when the checkpoint declares them.</summary>
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }

    public int RotaryDim => Positional == PositionalKind.Rotary ? (int)Math.Round(DHead * RotaryFraction) : 0;

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
        Require(c.AttnOnly || c.DMlp > 0, $"d_mlp must be positive, got {c.DMlp}");
        Require(c.VocabSize > 0, $"vocab_size must be positive, got {c.VocabSize}");
        Require(c.ContextLength > 0, $"context length must be positive, got {c.ContextLength}");
        Require(c.NormEps > 0, $"norm epsilon must be positive, got {c.NormEps}");
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
        $", {(AttnOnly ? "attention only" : Act.ToString())}{(ParallelAttnMlp ? ", parallel attn+mlp" : "")}{(TiedEmbeddings ? ", tied embeddings" : "")}";
}
