using Glassbox.Training;
using static TorchSharp.torch;

namespace Glassbox.Probing;

/// <summary>How a linear probe is fitted: full-batch AdamW on standardised activations with an L2 penalty.</summary>
public sealed record ProbeTraining
{
    public int Steps { get; init; } = 100;
    public double LearningRate { get; init; } = 0.1;
    /// <summary>λ of the penalty <c>λ‖W‖²</c> added to the mean cross-entropy.</summary>
    public double L2 { get; init; } = 1e-3;
}

/// <summary>
/// A linear probe (Alain &amp; Bengio 2016; Belinkov 2022): softmax regression <c>p(y|h) = softmax(ĥ W + b)</c> on
/// activations standardised with the training set's mean and standard deviation, <c>ĥ = (h − μ)/σ</c>.
/// </summary>
public sealed class LinearProbe : IDisposable
{
    readonly Tensor mean, std, w, b;

    LinearProbe(Tensor mean, Tensor std, Tensor w, Tensor b) => (this.mean, this.std, this.w, this.b) = (mean, std, w, b);

    public int Classes => (int)w.shape[1];

    /// <summary>Fits a probe on <paramref name="x"/> [N, d] (float, any device) and labels in [0, classes).</summary>
    public static LinearProbe Train(Tensor x, IReadOnlyList<int> labels, int classes, ProbeTraining? options = null)
    {
        var o = options ?? new ProbeTraining();
        if (x.dim() != 2 || x.shape[0] != labels.Count || labels.Count == 0)
            throw new GlassboxException($"A probe needs activations [N, d] and N labels, got [{string.Join(", ", x.shape)}] and {labels.Count}.");
        if (labels.Any(y => y < 0 || y >= classes)) throw new GlassboxException($"Probe labels must lie in [0, {classes}).");
        using var scope = NewDisposeScope();
        var x32 = x.to(ScalarType.Float32).detach();
        var mean = x32.mean([0]);
        var std = x32.std(0).clamp_min(1e-6);
        var features = (x32 - mean) / std;
        var y = tensor(labels.Select(v => (long)v).ToArray(), device: x.device);
        var w = zeros(x.shape[1], classes, device: x.device).requires_grad_(true);
        var b = zeros(classes, device: x.device).requires_grad_(true);
        using (var optimizer = new AdamW([w, b], weightDecay: 0))
        {
            for (int step = 0; step < o.Steps; step++)
            {
                using var inner = NewDisposeScope();
                var loss = nn.functional.cross_entropy(matmul(features, w) + b, y) + o.L2 * w.square().sum();
                optimizer.ZeroGrad();
                loss.backward();
                optimizer.Step(o.LearningRate);
            }
        }
        return new LinearProbe(mean.DetachFromDisposeScope(), std.DetachFromDisposeScope(),
            w.detach().DetachFromDisposeScope(), b.detach().DetachFromDisposeScope());
    }

    /// <summary>Predicted class per row of <paramref name="x"/> [N, d].</summary>
    public int[] Predict(Tensor x)
    {
        using var scope = NewDisposeScope();
        var logits = matmul((x.to(ScalarType.Float32) - mean) / std, w) + b;
        return logits.argmax(-1).to(CPU).data<long>().Select(v => (int)v).ToArray();
    }

    public double Accuracy(Tensor x, IReadOnlyList<int> labels) =>
        labels.Count == 0 ? double.NaN : Predict(x).Zip(labels, (p, y) => p == y ? 1.0 : 0.0).Average();

    public void Dispose()
    {
        mean.Dispose(); std.Dispose(); w.Dispose(); b.Dispose();
    }
}
