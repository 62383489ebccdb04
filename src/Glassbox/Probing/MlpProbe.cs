using Glassbox.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Probing;

/// <summary>How an MLP probe is fitted: full-batch AdamW, stopped early on a held-out part of the training set.</summary>
public sealed record MlpProbeTraining
{
    public int Hidden { get; init; } = 64;
    /// <summary>Most steps taken; with <see cref="ValidationFraction"/> 0 exactly this many.</summary>
    public int Steps { get; init; } = 500;
    public double LearningRate { get; init; } = 0.01;
    /// <summary>AdamW's decoupled weight decay on the two weight matrices.</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Share of the training examples held out to stop early (keep the weights of the lowest validation loss); 0 trains a fixed number of steps.</summary>
    public double ValidationFraction { get; init; } = 0.2;
    /// <summary>Stop after this many validation checks (one every 10 steps) without a lower loss.</summary>
    public int Patience { get; init; } = 5;
    public int Seed { get; init; }
}

/// <summary>
/// An MLP probe (Hewitt &amp; Liang 2019, arXiv 1909.03368, "MLP-1"): one ReLU hidden layer,
/// <c>p(y|h) = softmax(ReLU(ĥ W₁ + b₁) W₂ + b₂)</c> on standardised activations <c>ĥ = (h − μ)/σ</c>. More expressive than a
/// linear probe, so it reads non-linear concepts (e.g. an XOR of two directions) but also memorises more: lower selectivity.
/// </summary>
public sealed class MlpProbe : IProbe
{
    const int CheckEvery = 10;
    readonly Tensor mean, std;
    readonly Tensor[] weights; // W₁, b₁, W₂, b₂

    MlpProbe(Tensor mean, Tensor std, Tensor[] weights) => (this.mean, this.std, this.weights) = (mean, std, weights);

    /// <summary>Steps actually taken (fewer than the budget when validation stopped it).</summary>
    public int StepsTaken { get; private init; }

    /// <summary>Fits the probe on <paramref name="x"/> [N, d] (float, any device) and labels in [0, classes).</summary>
    public static MlpProbe Train(Tensor x, IReadOnlyList<int> labels, int classes, MlpProbeTraining? options = null)
    {
        var o = options ?? new MlpProbeTraining();
        if (o.Hidden < 1) throw new GlassboxException($"An MLP probe needs a hidden width of at least 1, got {o.Hidden}.");
        using var scope = NewDisposeScope();
        var y = Probes.LabelTensor(x, labels, classes, "probe");
        var (mean, std, features) = Probes.Standardise(x);
        var generator = new Generator((ulong)o.Seed);
        long d = x.shape[1];
        var p = new[]
        {
            (randn(d, o.Hidden, generator: generator) * Math.Sqrt(2.0 / d)).to(x.device), zeros(o.Hidden, device: x.device),
            (randn(o.Hidden, classes, generator: generator) * Math.Sqrt(1.0 / o.Hidden)).to(x.device), zeros(classes, device: x.device),
        }.Select(t => t.requires_grad_(true)).ToArray();

        bool validate = o.ValidationFraction > 0 && labels.Count >= 5;
        var (fit, held) = validate ? ProbeSweep.Split(labels.Count, o.ValidationFraction, o.Seed) : (Enumerable.Range(0, labels.Count).ToArray(), []);
        var fitIdx = tensor(fit.Select(i => (long)i).ToArray(), device: x.device);
        var heldIdx = tensor(held.Select(i => (long)i).ToArray(), device: x.device);
        var (xFit, yFit, xHeld, yHeld) = (features.index_select(0, fitIdx), y.index_select(0, fitIdx), features.index_select(0, heldIdx), y.index_select(0, heldIdx));
        var best = p.Select(t => t.detach().clone()).ToArray();
        double bestLoss = double.PositiveInfinity;
        int step = 0, sinceBest = 0;
        using (var optimizer = new AdamW(p, weightDecay: o.WeightDecay))
        {
            while (step < o.Steps && sinceBest < o.Patience)
            {
                using var inner = NewDisposeScope();
                var loss = nn.functional.cross_entropy(Forward(xFit, p), yFit);
                optimizer.ZeroGrad();
                loss.backward();
                optimizer.Step(o.LearningRate);
                step++;
                if (!validate || step % CheckEvery != 0) continue;
                using var _ = no_grad();
                double heldLoss = nn.functional.cross_entropy(Forward(xHeld, p), yHeld).ToDouble();
                if (heldLoss < bestLoss)
                {
                    (bestLoss, sinceBest) = (heldLoss, 0);
                    for (int i = 0; i < p.Length; i++) best[i].copy_(p[i]);
                }
                else sinceBest++;
            }
        }
        var kept = double.IsFinite(bestLoss) ? best : p.Select(t => t.detach()).ToArray(); // no check yet: the last weights
        return new MlpProbe(mean.DetachFromDisposeScope(), std.DetachFromDisposeScope(), kept.Select(t => t.DetachFromDisposeScope()).ToArray()) { StepsTaken = step };
    }

    public Tensor Logits(Tensor x) => Forward((x.to(ScalarType.Float32) - mean) / std, weights);

    static Tensor Forward(Tensor h, Tensor[] p) => matmul(nn.functional.relu(matmul(h, p[0]) + p[1]), p[2]) + p[3];

    public void Dispose()
    {
        mean.Dispose(); std.Dispose();
        foreach (var t in weights) t.Dispose();
    }
}
