using Glassbox.Models;
using Glassbox.Reporting;
using static TorchSharp.torch;

namespace Glassbox.Probing;

/// <summary>An online codelength: bits to transmit N labels, the uniform code's bits, and where the blocks end.</summary>
public sealed record OnlineCodelength(double Bits, double UniformBits, int[] BlockEnds)
{
    /// <summary>Uniform codelength / online codelength (≈ 1 when the activations say nothing about the labels).</summary>
    public double Compression => UniformBits / Bits;
}

/// <summary>Per layer: the online codelength and compression of the task and of the control task.</summary>
public sealed record MdlReport(string Hook, ProbeKind Kind, int Count, double UniformBits, double[] Bits, double[] ControlBits) : IReport
{
    public int Layers => Bits.Length;
    public double[] Compression => Bits.Select(b => UniformBits / b).ToArray();
    public double[] ControlCompression => ControlBits.Select(b => UniformBits / b).ToArray();

    public Heatmap Grid
    {
        get
        {
            var v = new double[Layers, 4];
            for (int l = 0; l < Layers; l++) (v[l, 0], v[l, 1], v[l, 2], v[l, 3]) = (Bits[l], Compression[l], ControlBits[l], ControlCompression[l]);
            return new Heatmap($"MDL (online code) of {Kind.Name()} probes on {Hook} ({Count} examples; uniform {UniformBits:F1} bits)", "layer", "measure",
                Heatmap.Numbered("L", Layers), ["codelength (bits)", "compression", "control codelength", "control compression"], v).Validated();
        }
    }

    public IReadOnlyList<Heatmap> Heatmaps => [Grid];
    public string ToText() => Grid.ToTable();
    public string ToCsv() => "layer,codelength_bits,compression,control_codelength_bits,control_compression\n" + string.Concat(Enumerable.Range(0, Layers).Select(l =>
        FormattableString.Invariant($"{l},{Bits[l]:R},{Compression[l]:R},{ControlBits[l]:R},{ControlCompression[l]:R}\n")));
    public string ToJson() => ReportJson.Serialize(new
    {
        probe = Kind.Name(), hook = Hook, count = Count, uniformBits = UniformBits,
        codelengthBits = Bits, compression = Compression, controlCodelengthBits = ControlBits, controlCompression = ControlCompression,
    });
    public override string ToString() => ToText();
}

/// <summary>
/// MDL probing with the online code (Voita &amp; Titov 2020, arXiv 2003.12298): order the examples (seeded shuffle), cut
/// them into blocks ending at <c>t₁ &lt; t₂ &lt; … &lt; t_S = N</c>, send the first block with the uniform code and every next
/// block with a probe trained on all the examples before it:
/// <c>L = t₁·log₂K + Σ_{i&lt;S} Σ_{j ∈ (t_i, t_{i+1}]} −log₂ p_{θ_i}(y_j | h_j)</c>; <c>compression = N·log₂K / L</c>.
/// Block ends are the paper's 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.25, 12.5, 25, 50, 100 % of N, except that ends below
/// <see cref="MinFirstBlock"/> examples are dropped (on small data the first blocks would be empty or a few examples).
/// </summary>
public static class OnlineCode
{
    public static readonly double[] PaperFractions = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.0625, 0.125, 0.25, 0.5, 1.0];
    public const int MinFirstBlock = 10;

    public static int[] BlockEnds(int count)
    {
        if (count <= MinFirstBlock) throw new GlassboxException($"The online code needs more than {MinFirstBlock} examples, got {count}.");
        return PaperFractions.Select(f => (int)Math.Round(f * count)).Where(t => t >= MinFirstBlock).Distinct().ToArray();
    }

    /// <summary>The online codelength of <paramref name="labels"/> given <paramref name="x"/> [N, d], probes of <paramref name="options"/>.Kind.</summary>
    public static OnlineCodelength Measure(Tensor x, IReadOnlyList<int> labels, int classes, ProbeSweepOptions? options = null)
    {
        var o = options ?? new ProbeSweepOptions();
        CheckKind(o.Kind);
        var ends = BlockEnds(labels.Count);
        using var scope = NewDisposeScope();
        var order = Enumerable.Range(0, labels.Count).ToArray();
        new Random(o.Seed).Shuffle(order);
        var xs = x.index_select(0, tensor(order.Select(i => (long)i).ToArray(), device: x.device));
        var ys = order.Select(i => labels[i]).ToArray();
        double bits = ends[0] * Math.Log2(classes);
        for (int i = 0; i + 1 < ends.Length; i++)
        {
            using var inner = NewDisposeScope();
            using var probe = Probes.Train(o.Kind, xs[..ends[i]], ys[..ends[i]], classes, o);
            bits += probe.Codelength(xs[ends[i]..ends[i + 1]], ys[ends[i]..ends[i + 1]]);
        }
        return new OnlineCodelength(bits, labels.Count * Math.Log2(classes), ends);
    }

    /// <summary>The online codelength at every layer, of the labels and of Hewitt &amp; Liang's control labels (see <see cref="ProbeSweep"/>).</summary>
    public static MdlReport Sweep(HookedTransformer model, IReadOnlyList<long[]> prompts, IReadOnlyList<int> labels,
        ProbeSweepOptions? options = null, IReadOnlyList<int>? controlKeys = null)
    {
        var o = options ?? new ProbeSweepOptions();
        CheckKind(o.Kind);
        var (classes, control) = ProbeSweep.Prepare(prompts, labels, o, controlKeys);
        using var scope = NewDisposeScope();
        var acts = ProbeSweep.ActivationsAt(model, prompts, o.Hook, o.Position);
        int L = model.Config.NLayers;
        var bits = new double[L];
        var controlBits = new double[L];
        for (int l = 0; l < L; l++)
        {
            bits[l] = Measure(acts[l], labels, classes, o).Bits;
            controlBits[l] = Measure(acts[l], control, classes, o).Bits;
        }
        return new MdlReport(o.Hook, o.Kind, labels.Count, labels.Count * Math.Log2(classes), bits, controlBits);
    }

    static void CheckKind(ProbeKind kind)
    {
        if (kind == ProbeKind.MassMean)
            throw new GlassboxException("MDL needs a probe trained for its probabilities (linear or mlp); a mass-mean probe's scores are not calibrated.");
    }
}
