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
    /// <summary>Also probe a randomly initialised model of the same config (seeded by <see cref="Seed"/>): what the architecture alone makes decodable.</summary>
    public bool RandomModelBaseline { get; init; }
}

/// <summary>
/// Per layer: the task probe's train and test accuracy, the control probe's test accuracy, and selectivity; optionally the
/// task probe's cross-validated λ and the test accuracy of the same probe on a randomly initialised model.
/// </summary>
public sealed record ProbeReport(string Hook, double[] TrainAccuracy, double[] TestAccuracy, double[] ControlAccuracy, double MajorityBaseline,
    int TrainCount, int TestCount, ProbeKind Kind = ProbeKind.Linear, double[]? Lambda = null, double[]? RandomModelAccuracy = null) : IReport
{
    public int Layers => TestAccuracy.Length;
    public double[] Selectivity => TestAccuracy.Zip(ControlAccuracy, (t, c) => t - c).ToArray();

    IEnumerable<(string Label, string CsvName, double[] Values)> Columns
    {
        get
        {
            yield return ("train acc", "train_accuracy", TrainAccuracy);
            yield return ("test acc", "test_accuracy", TestAccuracy);
            yield return ("control acc", "control_accuracy", ControlAccuracy);
            yield return ("selectivity", "selectivity", Selectivity);
            if (Lambda is not null) yield return ("λ (CV)", "lambda", Lambda);
            if (RandomModelAccuracy is not null) yield return ("random init", "random_model_test_accuracy", RandomModelAccuracy);
        }
    }

    public Heatmap Grid
    {
        get
        {
            var columns = Columns.ToArray();
            var v = new double[Layers, columns.Length];
            for (int l = 0; l < Layers; l++) for (int c = 0; c < columns.Length; c++) v[l, c] = columns[c].Values[l];
            return new Heatmap($"{Kind.Name()} probes on {Hook} ({TrainCount} train / {TestCount} test; majority {MajorityBaseline:F3})", "layer", "measure",
                Heatmap.Numbered("L", Layers), columns.Select(c => c.Label).ToArray(), v).Validated();
        }
    }

    public IReadOnlyList<Heatmap> Heatmaps => [Grid];
    public string ToText() => Grid.ToTable();
    public string ToCsv() => "layer," + string.Join(",", Columns.Select(c => c.CsvName)) + "\n" + string.Concat(Enumerable.Range(0, Layers).Select(l =>
        FormattableString.Invariant($"{l},") + string.Join(",", Columns.Select(c => c.Values[l].ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "\n"));
    public string ToJson() => ReportJson.Serialize(new
    {
        probe = Kind.Name(), hook = Hook, trainCount = TrainCount, testCount = TestCount, majorityBaseline = MajorityBaseline,
        trainAccuracy = TrainAccuracy, testAccuracy = TestAccuracy, controlAccuracy = ControlAccuracy, selectivity = Selectivity,
        lambda = Lambda, randomModelTestAccuracy = RandomModelAccuracy,
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
        var lambda = new double[L];
        var (trainIdx, testIdx) = (Index(train, acts.device), Index(test, acts.device));
        int[] Pick(IReadOnlyList<int> ys, int[] idx) => idx.Select(i => ys[i]).ToArray();
        int[] yTrain = Pick(labels, train), yTest = Pick(labels, test);
        bool crossValidated = o.Kind == ProbeKind.Linear && o.Training.L2Grid is not null;
        for (int l = 0; l < L; l++)
        {
            (trainAcc[l], testAcc[l], lambda[l]) = Fit(acts[l], trainIdx, testIdx, yTrain, yTest, classes, o);
            // Hewitt & Liang's control probe is the task probe's twin: the λ cross-validation chose, not one chosen for the control labels.
            var twin = crossValidated ? o with { Training = o.Training with { L2Grid = null, L2 = lambda[l] } } : o;
            controlAcc[l] = Fit(acts[l], trainIdx, testIdx, Pick(control, train), Pick(control, test), classes, twin).Test;
        }
        int majority = yTrain.GroupBy(y => y).OrderByDescending(g => g.Count()).First().Key;
        double baseline = yTest.Average(y => y == majority ? 1.0 : 0.0);
        var random = o.RandomModelBaseline ? RandomModelAccuracy(model, prompts, trainIdx, testIdx, yTrain, yTest, classes, o) : null;
        return new ProbeReport(o.Hook, trainAcc, testAcc, controlAcc, baseline, train.Length, test.Length, o.Kind, crossValidated ? lambda : null, random);
    }

    /// <summary>Fits a probe of the sweep's kind on one layer's training rows and scores both splits; the λ is a linear probe's (else NaN).</summary>
    static (double Train, double Test, double L2) Fit(Tensor layer, Tensor trainIdx, Tensor testIdx, int[] yTrain, int[] yTest, int classes, ProbeSweepOptions o)
    {
        using var scope = NewDisposeScope();
        var xTrain = layer.index_select(0, trainIdx);
        using var probe = Probes.Train(o.Kind, xTrain, yTrain, classes, o);
        return (probe.Accuracy(xTrain, yTrain), probe.Accuracy(layer.index_select(0, testIdx), yTest), probe is LinearProbe linear ? linear.L2 : double.NaN);
    }

    /// <summary>Held-out accuracy per layer of the same probe on a randomly initialised model with the same config and the same split.</summary>
    static double[] RandomModelAccuracy(HookedTransformer model, IReadOnlyList<long[]> prompts, Tensor trainIdx, Tensor testIdx, int[] yTrain, int[] yTest,
        int classes, ProbeSweepOptions o)
    {
        using var scope = NewDisposeScope();
        using var weights = RandomInit.Create(model.Config, o.Seed);
        using var random = new HookedTransformer(model.Config, weights, model.Device, model.W_E.dtype);
        var acts = ActivationsAt(random, prompts, o.Hook, o.Position);
        return Enumerable.Range(0, model.Config.NLayers).Select(l => Fit(acts[l], trainIdx, testIdx, yTrain, yTest, classes, o).Test).ToArray();
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

    static Tensor Index(int[] rows, Device device) => tensor(rows.Select(i => (long)i).ToArray(), device: device);

    static int At(long[] prompt, int position)
    {
        int p = position < 0 ? prompt.Length + position : position;
        if (p < 0 || p >= prompt.Length) throw new GlassboxException($"Probe position {position} is outside a prompt of {prompt.Length} tokens.");
        return p;
    }
}
