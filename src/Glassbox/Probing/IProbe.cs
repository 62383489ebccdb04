using static TorchSharp.torch;

namespace Glassbox.Probing;

/// <summary>A trained classifier on activations [N, d]: linear, MLP or mass-mean.</summary>
public interface IProbe : IDisposable
{
    /// <summary>Unnormalised class scores [N, classes]; <c>log_softmax</c> of them is the probe's <c>log p(y|h)</c>.</summary>
    Tensor Logits(Tensor x);
}

public enum ProbeKind { Linear, Mlp, MassMean }

/// <summary>Training, prediction and scoring shared by every probe kind.</summary>
public static class Probes
{
    static readonly Dictionary<string, ProbeKind> Names = new()
    {
        ["linear"] = ProbeKind.Linear, ["mlp"] = ProbeKind.Mlp, ["mass-mean"] = ProbeKind.MassMean,
    };

    public static string Name(this ProbeKind kind) => Names.First(n => n.Value == kind).Key;

    /// <summary>Parses <c>linear</c>, <c>mlp</c> or <c>mass-mean</c>.</summary>
    public static ProbeKind Parse(string name) => Names.TryGetValue(name.Trim().ToLowerInvariant(), out var kind) ? kind
        : throw new GlassboxException($"Unknown probe '{name}' (use {string.Join(", ", Names.Keys)}): {NameSuggestions.Describe(name, Names.Keys)}");

    /// <summary>Trains a probe of <paramref name="kind"/> with the sweep options' settings for that kind.</summary>
    public static IProbe Train(ProbeKind kind, Tensor x, IReadOnlyList<int> labels, int classes, ProbeSweepOptions options) => kind switch
    {
        ProbeKind.Linear => LinearProbe.Train(x, labels, classes, options.Training),
        ProbeKind.Mlp => MlpProbe.Train(x, labels, classes, options.Mlp),
        ProbeKind.MassMean => MassMeanProbe.Train(x, labels, classes, options.Iid),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Predicted class per row of <paramref name="x"/> [N, d].</summary>
    public static int[] Predict(this IProbe probe, Tensor x)
    {
        using var scope = NewDisposeScope();
        return probe.Logits(x).argmax(-1).to(CPU).data<long>().Select(v => (int)v).ToArray();
    }

    public static double Accuracy(this IProbe probe, Tensor x, IReadOnlyList<int> labels) =>
        labels.Count == 0 ? double.NaN : probe.Predict(x).Zip(labels, (p, y) => p == y ? 1.0 : 0.0).Average();

    /// <summary>Σ −log₂ p(y|h) over the rows of <paramref name="x"/>: the bits to transmit the labels with the probe.</summary>
    public static double Codelength(this IProbe probe, Tensor x, IReadOnlyList<int> labels)
    {
        using var scope = NewDisposeScope();
        var logp = nn.functional.log_softmax(probe.Logits(x).to(ScalarType.Float64), -1);
        var y = tensor(labels.Select(v => (long)v).ToArray(), device: logp.device).unsqueeze(1);
        return -logp.gather(1, y).sum().item<double>() / Math.Log(2);
    }

    /// <summary>The training set's mean and standard deviation per feature and the standardised float32 features <c>(x − μ)/σ</c>.</summary>
    internal static (Tensor Mean, Tensor Std, Tensor Features) Standardise(Tensor x)
    {
        var x32 = x.to(ScalarType.Float32).detach();
        var mean = x32.mean([0]);
        var std = x32.std(0).clamp_min(1e-6);
        return (mean, std, (x32 - mean) / std);
    }

    /// <summary>Checks activations [N, d] against N labels in [0, classes) and returns the labels as a long tensor on x's device.</summary>
    internal static Tensor LabelTensor(Tensor x, IReadOnlyList<int> labels, int classes, string what)
    {
        if (x.dim() != 2 || x.shape[0] != labels.Count || labels.Count == 0)
            throw new GlassboxException($"A {what} needs activations [N, d] and N labels, got [{string.Join(", ", x.shape)}] and {labels.Count}.");
        if (labels.Any(y => y < 0 || y >= classes)) throw new GlassboxException($"Probe labels must lie in [0, {classes}).");
        return tensor(labels.Select(v => (long)v).ToArray(), device: x.device);
    }
}
