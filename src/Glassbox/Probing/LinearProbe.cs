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
    /// <summary>λ of the penalty <c>λ‖W‖²</c> added to the mean cross-entropy (unless <see cref="L2Grid"/> chooses it).</summary>
    public double L2 { get; init; } = 1e-3;
    /// <summary>λ values to choose from by <see cref="Folds"/>-fold cross-validation on the training set; null keeps <see cref="L2"/>.</summary>
    public double[]? L2Grid { get; init; }
    public int Folds { get; init; } = 5;

    /// <summary>The technique reference's range, 1e-4 to 1e2 by decades.</summary>
    public static double[] ReferenceGrid => [1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100];
}

/// <summary>
/// A linear probe (Alain &amp; Bengio 2016; Belinkov 2022): softmax regression <c>p(y|h) = softmax(ĥ W + b)</c> on
/// activations standardised with the training set's mean and standard deviation, <c>ĥ = (h − μ)/σ</c>.
/// </summary>
public sealed class LinearProbe : IProbe
{
    readonly Tensor mean, std, w, b;

    LinearProbe(Tensor mean, Tensor std, Tensor w, Tensor b, double l2) => (this.mean, this.std, this.w, this.b, L2) = (mean, std, w, b, l2);

    public int Classes => (int)w.shape[1];

    /// <summary>The λ the probe was fitted with (the cross-validated one when a grid was given).</summary>
    public double L2 { get; }

    /// <summary>Fits a probe on <paramref name="x"/> [N, d] (float, any device) and labels in [0, classes).</summary>
    public static LinearProbe Train(Tensor x, IReadOnlyList<int> labels, int classes, ProbeTraining? options = null)
    {
        var o = options ?? new ProbeTraining();
        Probes.LabelTensor(x, labels, classes, "probe").Dispose();
        return Fit(x, labels, classes, o, o.L2Grid is { } grid ? CrossValidate(x, labels, classes, o, grid) : o.L2);
    }

    /// <summary>
    /// The grid's λ with the highest held-out log-likelihood summed over k folds (a seeded shuffle, fold i every k-th example);
    /// ties go to the larger λ, the simpler probe.
    /// </summary>
    static double CrossValidate(Tensor x, IReadOnlyList<int> labels, int classes, ProbeTraining o, double[] grid)
    {
        if (grid.Length == 0 || grid.Any(l => !(l >= 0) || double.IsInfinity(l))) throw new GlassboxException("The λ grid needs finite values ≥ 0.");
        int n = labels.Count, k = Math.Min(o.Folds, n);
        if (k < 2) throw new GlassboxException($"Cross-validation needs at least 2 folds and 2 examples, got {o.Folds} folds of {n}.");
        var order = Enumerable.Range(0, n).ToArray();
        new Random(0).Shuffle(order);
        var folds = Enumerable.Range(0, k).Select(f => order.Where((_, i) => i % k == f).ToArray()).ToArray();
        Tensor Rows(int[] idx) => x.index_select(0, tensor(idx.Select(i => (long)i).ToArray(), device: x.device));
        int[] Labels(int[] idx) => idx.Select(i => labels[i]).ToArray();
        double best = double.NegativeInfinity, chosen = grid[0];
        foreach (double lambda in grid.OrderDescending())
        {
            double logLikelihood = 0;
            foreach (var held in folds)
            {
                using var scope = NewDisposeScope();
                var rest = order.Except(held).ToArray();
                using var probe = Fit(Rows(rest), Labels(rest), classes, o, lambda);
                logLikelihood -= probe.Codelength(Rows(held), Labels(held));
            }
            if (logLikelihood > best) (best, chosen) = (logLikelihood, lambda);
        }
        return chosen;
    }

    static LinearProbe Fit(Tensor x, IReadOnlyList<int> labels, int classes, ProbeTraining o, double l2)
    {
        using var scope = NewDisposeScope();
        var y = Probes.LabelTensor(x, labels, classes, "probe");
        var (mean, std, features) = Probes.Standardise(x);
        var w = zeros(x.shape[1], classes, device: x.device).requires_grad_(true);
        var b = zeros(classes, device: x.device).requires_grad_(true);
        Tensor Objective() => nn.functional.cross_entropy(matmul(features, w) + b, y) + l2 * w.square().sum();
        // float32 features: a gradient entry below 1e-5 is at the optimum to the precision the probe is read at.
        if (o.Optimizer == ProbeOptimizer.Lbfgs) Lbfgs.Minimize([w, b], Objective, new LbfgsOptions { MaxIterations = o.Steps, GradientTolerance = 1e-5, ChangeTolerance = 1e-9 });
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
            w.detach().DetachFromDisposeScope(), b.detach().DetachFromDisposeScope(), l2);
    }

    public Tensor Logits(Tensor x) => matmul((x.to(ScalarType.Float32) - mean) / std, w) + b;

    public void Dispose()
    {
        mean.Dispose(); std.Dispose(); w.Dispose(); b.Dispose();
    }
}
