using Glassbox.Hooks;
using static TorchSharp.torch;

namespace Glassbox.Probing;

/// <summary>
/// LEACE (Belrose et al. 2023, arXiv 2306.03819): the least-squares affine edit after which no linear classifier predicts
/// the concept better than a constant. With whitening <c>W = (Σ_XX^{1/2})⁺</c> and <c>P</c> the orthogonal projection onto
/// colspan(<c>W Σ_XZ</c>), <c>r(x) = x − (x − μ) W P W⁺</c> (row vectors). Fitted in float64 from activations and labels.
/// </summary>
public sealed class Leace : IDisposable
{
    readonly Tensor mean, edit;

    Leace(Tensor mean, Tensor edit) => (this.mean, this.edit) = (mean, edit);

    /// <summary>Rank of the erased subspace (at most classes − 1).</summary>
    public int Rank { get; private init; }

    /// <summary>Fits the eraser on <paramref name="x"/> [N, d] and class labels (one-hot concept <c>Z</c>).</summary>
    public static Leace Fit(Tensor x, IReadOnlyList<int> labels, double tolerance = 1e-8)
    {
        if (x.dim() != 2 || x.shape[0] != labels.Count || labels.Count < 2)
            throw new GlassboxException($"LEACE needs activations [N, d] and N ≥ 2 labels, got [{string.Join(", ", x.shape)}] and {labels.Count}.");
        using var scope = NewDisposeScope();
        var device = x.device;
        var x64 = x.to(ScalarType.Float64).detach();
        int classes = labels.Max() + 1;
        var z = nn.functional.one_hot(tensor(labels.Select(v => (long)v).ToArray(), device: device), classes).to(ScalarType.Float64);
        var mu = x64.mean([0]);
        var xc = x64 - mu;
        var zc = z - z.mean([0]);
        double n = labels.Count;
        var sigmaXX = matmul(xc.t(), xc) / n;
        var sigmaXZ = matmul(xc.t(), zc) / n;
        var (lambda, q) = linalg.eigh(sigmaXX);
        var keep = lambda > tolerance * lambda.max().clamp_min(double.Epsilon);
        var invSqrt = where(keep, lambda.clamp_min(double.Epsilon).rsqrt(), zeros_like(lambda));
        var sqrt = where(keep, lambda.clamp_min(0).sqrt(), zeros_like(lambda));
        var w = matmul(q * invSqrt, q.t());
        var wPlus = matmul(q * sqrt, q.t());
        var (u, s, _) = linalg.svd(matmul(w, sigmaXZ), fullMatrices: false);
        // Relative to the concept's own scale (W Σ_XZ is a correlation times Z's standard deviation), not to the largest singular
        // value: when X carries no linear information about Z every singular value is rounding noise and nothing must be erased.
        var zScale = (matmul(zc.t(), zc) / n).diagonal().max().sqrt();
        var basis = s > tolerance * zScale;
        int rank = (int)basis.sum().item<long>();
        var ur = u.narrow(1, 0, rank); // singular values come sorted, so the kept ones lead
        var edit = matmul(matmul(w, matmul(ur, ur.t())), wPlus);
        return new Leace(mu.DetachFromDisposeScope(), edit.DetachFromDisposeScope()) { Rank = rank };
    }

    /// <summary><c>r(x)</c> for x [..., d], in x's dtype.</summary>
    public Tensor Apply(Tensor x)
    {
        using var scope = NewDisposeScope();
        var x64 = x.to(ScalarType.Float64);
        return (x64 - matmul(x64 - mean.to(x.device), edit.to(x.device))).to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The eraser as a hook at <paramref name="hookName"/> (every position).</summary>
    public (string Names, HookFn Fn) Hook(string hookName) => (hookName, (x, _) => Apply(x));

    public void Dispose()
    {
        mean.Dispose();
        edit.Dispose();
    }
}
