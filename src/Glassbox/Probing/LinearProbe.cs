using Glassbox.Training;
using static TorchSharp.torch;

namespace Glassbox.Probing;

public enum ProbeOptimizer { AdamW, Lbfgs }

/// <summary>How a linear probe is fitted: full-batch AdamW or L-BFGS on standardised activations with an L2 penalty.</summary>
public sealed record ProbeTraining
{
    /// <summary>L-BFGS runs the regularised objective to its optimum (as scikit-learn's logistic regression does); AdamW takes <see cref="Steps"/> steps.</summary>
    public ProbeOptimizer Optimizer { get; init; } = ProbeOptimizer.AdamW;
    /// <summary>AdamW's steps, or L-BFGS's most iterations.</summary>
    public int Steps { get; init; } = 100;
    /// <summary>AdamW's learning rate (L-BFGS needs none).</summary>
    public double LearningRate { get; init; } = 0.1;
    /// <summary>λ of the penalty <c>λ‖W‖²</c> added to the mean cross-entropy.</summary>
    public double L2 { get; init; } = 1e-3;
}

/// <summary>
/// A linear probe (Alain &amp; Bengio 2016; Belinkov 2022): softmax regression <c>p(y|h) = softmax(ĥ W + b)</c> on
/// activations standardised with the training set's mean and standard deviation, <c>ĥ = (h − μ)/σ</c>.
/// </summary>
public sealed class LinearProbe : IProbe
{
    readonly Tensor mean, std, w, b;

    LinearProbe(Tensor mean, Tensor std, Tensor w, Tensor b) => (this.mean, this.std, this.w, this.b) = (mean, std, w, b);

    public int Classes => (int)w.shape[1];

    /// <summary>Fits a probe on <paramref name="x"/> [N, d] (float, any device) and labels in [0, classes).</summary>
    public static LinearProbe Train(Tensor x, IReadOnlyList<int> labels, int classes, ProbeTraining? options = null)
    {
        var o = options ?? new ProbeTraining();
        using var scope = NewDisposeScope();
        var y = Probes.LabelTensor(x, labels, classes, "probe");
        var (mean, std, features) = Probes.Standardise(x);
        var w = zeros(x.shape[1], classes, device: x.device).requires_grad_(true);
        var b = zeros(classes, device: x.device).requires_grad_(true);
        Tensor Objective() => nn.functional.cross_entropy(matmul(features, w) + b, y) + o.L2 * w.square().sum();
        if (o.Optimizer == ProbeOptimizer.Lbfgs) Lbfgs.Minimize([w, b], Objective, new LbfgsOptions { MaxIterations = o.Steps });
        else
        {
            using var optimizer = new AdamW([w, b], weightDecay: 0);
            for (int step = 0; step < o.Steps; step++)
            {
                using var inner = NewDisposeScope();
                var loss = Objective();
                optimizer.ZeroGrad();
                loss.backward();
                optimizer.Step(o.LearningRate);
            }
        }
        return new LinearProbe(mean.DetachFromDisposeScope(), std.DetachFromDisposeScope(),
            w.detach().DetachFromDisposeScope(), b.detach().DetachFromDisposeScope());
    }

    public Tensor Logits(Tensor x) => matmul((x.to(ScalarType.Float32) - mean) / std, w) + b;

    public void Dispose()
    {
        mean.Dispose(); std.Dispose(); w.Dispose(); b.Dispose();
    }
}
