using Glassbox.Models;
using Glassbox.Reporting;
using static TorchSharp.torch;

namespace Glassbox.Probing;

/// <summary>Which activations a probe sweep reads and how it splits and controls.</summary>
public sealed record ProbeSweepOptions
{
    /// <summary>Short hook name read at every layer: resid_pre, resid_mid, resid_post, attn_out or mlp_out.</summary>
    public string Hook { get; init; } = "resid_post";
    /// <summary>The probed token (negative counts from each prompt's end).</summary>
    public int Position { get; init; } = -1;
    public double TestFraction { get; init; } = 0.3;
    public int Seed { get; init; }
    public ProbeKind Kind { get; init; } = ProbeKind.Linear;
    /// <summary>Settings of a linear probe.</summary>
    public ProbeTraining Training { get; init; } = new();
    /// <summary>Settings of an MLP probe.</summary>
    public MlpProbeTraining Mlp { get; init; } = new();
    /// <summary>A mass-mean probe reads through the inverse within-class covariance (the IID version).</summary>
    public bool Iid { get; init; }
}

/// <summary>Per layer: the task probe's train and test accuracy, the control probe's test accuracy, and selectivity.</summary>
public sealed record ProbeReport(string Hook, double[] TrainAccuracy, double[] TestAccuracy, double[] ControlAccuracy, double MajorityBaseline,
    int TrainCount, int TestCount, ProbeKind Kind = ProbeKind.Linear) : IReport
{
    public int Layers => TestAccuracy.Length;
    public double[] Selectivity => TestAccuracy.Zip(ControlAccuracy, (t, c) => t - c).ToArray();

    public Heatmap Grid
    {
        get
        {
            var v = new double[Layers, 4];
            for (int l = 0; l < Layers; l++) (v[l, 0], v[l, 1], v[l, 2], v[l, 3]) = (TrainAccuracy[l], TestAccuracy[l], ControlAccuracy[l], Selectivity[l]);
            return new Heatmap($"{Kind.Name()} probes on {Hook} ({TrainCount} train / {TestCount} test; majority {MajorityBaseline:F3})", "layer", "measure",
                Heatmap.Numbered("L", Layers), ["train acc", "test acc", "control acc", "selectivity"], v).Validated();
        }
    }

    public IReadOnlyList<Heatmap> Heatmaps => [Grid];
    public string ToText() => Grid.ToTable();
    public string ToCsv() => "layer,train_accuracy,test_accuracy,control_accuracy,selectivity\n" + string.Concat(Enumerable.Range(0, Layers).Select(l =>
        FormattableString.Invariant($"{l},{TrainAccuracy[l]:R},{TestAccuracy[l]:R},{ControlAccuracy[l]:R},{Selectivity[l]:R}\n")));
    public string ToJson() => ReportJson.Serialize(new
    {
        probe = Kind.Name(), hook = Hook, trainCount = TrainCount, testCount = TestCount, majorityBaseline = MajorityBaseline,
        trainAccuracy = TrainAccuracy, testAccuracy = TestAccuracy, controlAccuracy = ControlAccuracy, selectivity = Selectivity,
    });
    public override string ToString() => ToText();
}

/// <summary>
/// Probes (linear, MLP or mass-mean) at every layer with a control task (Hewitt &amp; Liang 2019, arXiv 1909.03368): each word type (by default
/// the probed token) gets a fixed random label drawn from the task's label distribution, an identical probe learns those,
/// and <c>selectivity = acc_task − acc_control</c> on held-out prompts says how much of the accuracy the representation,
/// rather than the probe's memory of word types, explains.
/// </summary>
public static class ProbeSweep
{
    public static ProbeReport Run(HookedTransformer model, IReadOnlyList<long[]> prompts, IReadOnlyList<int> labels,
        ProbeSweepOptions? options = null, IReadOnlyList<int>? controlKeys = null)
    {
        var o = options ?? new ProbeSweepOptions();
        var (classes, control) = Prepare(prompts, labels, o, controlKeys);
        var (train, test) = Split(prompts.Count, o.TestFraction, o.Seed);

        using var scope = NewDisposeScope();
        var acts = ActivationsAt(model, prompts, o.Hook, o.Position);
        int L = model.Config.NLayers;
        var trainAcc = new double[L];
        var testAcc = new double[L];
        var controlAcc = new double[L];
        var trainIdx = tensor(train.Select(i => (long)i).ToArray(), device: acts.device);
        var testIdx = tensor(test.Select(i => (long)i).ToArray(), device: acts.device);
        int[] Pick(IReadOnlyList<int> ys, int[] idx) => idx.Select(i => ys[i]).ToArray();
        for (int l = 0; l < L; l++)
        {
            using var inner = NewDisposeScope();
            var xTrain = acts[l].index_select(0, trainIdx);
            var xTest = acts[l].index_select(0, testIdx);
            using (var probe = Probes.Train(o.Kind, xTrain, Pick(labels, train), classes, o))
                (trainAcc[l], testAcc[l]) = (probe.Accuracy(xTrain, Pick(labels, train)), probe.Accuracy(xTest, Pick(labels, test)));
            using (var probe = Probes.Train(o.Kind, xTrain, Pick(control, train), classes, o))
                controlAcc[l] = probe.Accuracy(xTest, Pick(control, test));
        }
        int majority = Pick(labels, train).GroupBy(y => y).OrderByDescending(g => g.Count()).First().Key;
        double baseline = Pick(labels, test).Average(y => y == majority ? 1.0 : 0.0);
        return new ProbeReport(o.Hook, trainAcc, testAcc, controlAcc, baseline, train.Length, test.Length, o.Kind);
    }

    /// <summary>Checks prompts against labels; the number of classes and the control labels keyed on the probed token (or <paramref name="controlKeys"/>).</summary>
    internal static (int Classes, int[] Control) Prepare(IReadOnlyList<long[]> prompts, IReadOnlyList<int> labels, ProbeSweepOptions o, IReadOnlyList<int>? controlKeys)
    {
        if (prompts.Count != labels.Count) throw new GlassboxException($"{prompts.Count} prompts but {labels.Count} labels.");
        if (prompts.Count < 4) throw new GlassboxException($"Probing needs at least 4 labelled prompts, got {prompts.Count}.");
        var keys = controlKeys ?? prompts.Select(p => (int)p[At(p, o.Position)]).ToArray();
        return (labels.Max() + 1, ControlLabels(keys, labels, o.Seed));
    }

    /// <summary>Activations [layer, prompt, d] of <c>blocks.l.hook_{hook}</c> at each prompt's probed position (prompts of equal length run as one batch).</summary>
    public static Tensor ActivationsAt(HookedTransformer model, IReadOnlyList<long[]> prompts, string hook, int position)
    {
        int L = model.Config.NLayers;
        var names = Enumerable.Range(0, L).Select(l => $"blocks.{l}.hook_{hook}").ToArray();
        if (!model.Hooks.Contains(names[0]))
            throw new GlassboxException($"No hook point '{names[0]}' on this model: {NameSuggestions.Describe(names[0], model.Hooks.Points.Select(p => p.Name).ToArray())}");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var result = zeros(L, prompts.Count, model.Config.DModel, ScalarType.Float32, model.W_E.device);
        foreach (var group in prompts.Select((p, i) => (p, i)).GroupBy(x => x.p.Length))
        {
            using var inner = NewDisposeScope();
            var items = group.ToArray();
            if (group.Key == 0) throw new GlassboxException("A probing prompt is empty.");
            var tokens = tensor(items.SelectMany(x => x.p).ToArray(), new long[] { items.Length, group.Key });
            var (__, cache) = model.RunWithCache(tokens, string.Join(",", names));
            using (cache)
            {
                var rows = tensor(items.Select(x => (long)x.i).ToArray(), device: result.device);
                int at = At(items[0].p, position);
                for (int l = 0; l < L; l++) result[l].index_copy_(0, rows, cache[names[l]][.., at].to(ScalarType.Float32));
            }
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Hewitt &amp; Liang's control labels: one label per key, drawn (seeded) from the empirical label distribution.</summary>
    public static int[] ControlLabels(IReadOnlyList<int> keys, IReadOnlyList<int> labels, int seed)
    {
        var random = new Random(seed);
        var byKey = new Dictionary<int, int>();
        foreach (var k in keys.Distinct().Order()) byKey[k] = labels[random.Next(labels.Count)];
        return keys.Select(k => byKey[k]).ToArray();
    }

    /// <summary>A seeded random split into train and test indices (at least one of each).</summary>
    public static (int[] Train, int[] Test) Split(int count, double testFraction, int seed)
    {
        var order = Enumerable.Range(0, count).OrderBy(_ => 0).ToArray();
        new Random(seed).Shuffle(order);
        int nTest = Math.Clamp((int)Math.Round(count * testFraction), 1, count - 1);
        return (order[nTest..], order[..nTest]);
    }

    static int At(long[] prompt, int position)
    {
        int p = position < 0 ? prompt.Length + position : position;
        if (p < 0 || p >= prompt.Length) throw new GlassboxException($"Probe position {position} is outside a prompt of {prompt.Length} tokens.");
        return p;
    }
}
