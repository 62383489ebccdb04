using static TorchSharp.torch;

namespace Glassbox.Probing;

/// <summary>
/// A mass-mean probe (Marks &amp; Tegmark 2023, arXiv 2310.06824): direction <c>θ = μ₊ − μ₋</c> of the two classes' mean
/// activations, score <c>s(h) = θᵀ(h − m)</c> against the midpoint <c>m = (μ₊ + μ₋)/2</c>, class 1 when <c>s &gt; 0</c>. The IID
/// version reads <c>θᵀΣ⁻¹(h − m)</c> with Σ the pooled within-class covariance (ridge <c>ε·tr Σ/d</c> added), which is
/// Fisher's discriminant: the Bayes rule, and <c>s</c> the log-odds, when both classes are Gaussian with a shared covariance.
/// No training loop: two means (and a covariance).
/// </summary>
public sealed class MassMeanProbe : IProbe
{
    readonly Tensor readout, midpoint;
    double bias;

    MassMeanProbe(Tensor direction, Tensor readout, Tensor midpoint) => (Direction, this.readout, this.midpoint) = (direction, readout, midpoint);

    /// <summary>θ = μ₊ − μ₋ [d], float64.</summary>
    public Tensor Direction { get; }

    public static MassMeanProbe Train(Tensor x, IReadOnlyList<int> labels, int classes, bool iid = false, double ridge = 1e-3)
    {
        if (classes != 2) throw new GlassboxException($"A mass-mean probe separates two classes, got {classes}.");
        using var scope = NewDisposeScope();
        var y = Probes.LabelTensor(x, labels, classes, "mass-mean probe");
        var x64 = x.to(ScalarType.Float64).detach();
        if (labels.Distinct().Count() == 1) // e.g. control labels of a single word type: predict that class, θ = 0
        {
            var none = zeros(x.shape[1], ScalarType.Float64, x.device);
            return new MassMeanProbe(none.DetachFromDisposeScope(), none.clone().DetachFromDisposeScope(), x64.mean([0]).DetachFromDisposeScope())
                { bias = labels[0] == 1 ? 1 : -1 };
        }
        var positive = x64[y == 1];
        var negative = x64[y == 0];
        var (muPositive, muNegative) = (positive.mean([0]), negative.mean([0]));
        var theta = muPositive - muNegative;
        var readout = theta.clone(); // disposed apart from Direction
        if (iid)
        {
            var centred = cat([positive - muPositive, negative - muNegative]);
            var sigma = matmul(centred.t(), centred) / labels.Count;
            long d = x.shape[1];
            sigma += eye(d, dtype: ScalarType.Float64, device: x.device) * (ridge * sigma.trace().item<double>() / d);
            readout = linalg.solve(sigma, theta);
        }
        return new MassMeanProbe(theta.DetachFromDisposeScope(), readout.DetachFromDisposeScope(), ((muPositive + muNegative) / 2).DetachFromDisposeScope());
    }

    /// <summary>[0, s(h)] per row, so that softmax gives <c>p(y = 1|h) = σ(s)</c>.</summary>
    public Tensor Logits(Tensor x)
    {
        var s = matmul(x.to(ScalarType.Float64) - midpoint, readout) + bias;
        return stack([zeros_like(s), s], 1).to(ScalarType.Float32);
    }

    public void Dispose()
    {
        Direction.Dispose(); readout.Dispose(); midpoint.Dispose();
    }
}
