using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Training;

/// <summary>How long L-BFGS runs and how much curvature it remembers.</summary>
public sealed record LbfgsOptions
{
    public int MaxIterations { get; init; } = 100;
    /// <summary>m, the number of (s, y) pairs kept.</summary>
    public int History { get; init; } = 10;
    /// <summary>Stop when the largest gradient entry is below this.</summary>
    public double GradientTolerance { get; init; } = 1e-7;
    /// <summary>Stop when an iteration lowers the objective by less than this (relative to max(1, |f|)).</summary>
    public double ChangeTolerance { get; init; } = 1e-12;
}

/// <summary>Where L-BFGS stopped: iterations taken, the objective, and the largest gradient entry there.</summary>
public sealed record LbfgsResult(int Iterations, double Loss, double MaxGradient);

/// <summary>
/// Limited-memory BFGS (Liu &amp; Nocedal 1989), the full-batch optimiser probes are conventionally fitted with: the two-loop
/// recursion gives <c>d = −H g</c> from the last m pairs <c>s = Δx, y = Δg</c> with <c>H₀ = (sᵀy / yᵀy) I</c>, and a backtracking
/// line search halves the step until <c>f(x + t d) ≤ f(x) + c₁ t gᵀd</c>. It needs no learning rate and, on a convex objective,
/// stops at the optimum rather than near it.
/// </summary>
public static class Lbfgs
{
    const double Armijo = 1e-4;
    const int MaxHalvings = 40;

    /// <summary>Minimises <paramref name="objective"/> (a scalar recomputed from <paramref name="parameters"/>) in place.</summary>
    public static LbfgsResult Minimize(IReadOnlyList<Tensor> parameters, Func<Tensor> objective, LbfgsOptions? options = null)
    {
        var o = options ?? new LbfgsOptions();
        if (o.MaxIterations < 1 || o.History < 1) throw new GlassboxException($"L-BFGS needs at least one iteration and one history pair, got {o.MaxIterations} and {o.History}.");
        using var scope = NewDisposeScope();
        var history = new List<(Tensor S, Tensor Y, double Rho)>();
        var x = Flatten(parameters, p => p.detach());
        var (f, g) = Evaluate(parameters, objective, x);
        int iteration = 0;
        while (iteration < o.MaxIterations && g.abs().max().ToDouble() > o.GradientTolerance)
        {
            iteration++;
            var d = Direction(g, history);
            double slope = g.dot(d).ToDouble();
            if (slope >= 0) { history.Clear(); d = -g; slope = -g.dot(g).ToDouble(); }
            // The first step has no curvature estimate yet; scale it so it moves each coordinate about once.
            double t = history.Count == 0 ? Math.Min(1.0, 1.0 / g.abs().sum().ToDouble()) : 1.0;
            Tensor xNext = x, gNext = g;
            double fNext = f;
            for (int halving = 0; halving <= MaxHalvings; halving++, t /= 2)
            {
                xNext = x + t * d;
                (fNext, gNext) = Evaluate(parameters, objective, xNext);
                if (fNext <= f + Armijo * t * slope) break;
            }
            if (!(fNext <= f)) { Write(parameters, x); break; } // no descent even at a vanishing step: x is as good as it gets
            var s = xNext - x;
            var y = gNext - g;
            double sy = s.dot(y).ToDouble();
            if (sy > 1e-12)
            {
                history.Add((s, y, 1 / sy));
                if (history.Count > o.History) history.RemoveAt(0);
            }
            bool stalled = f - fNext < o.ChangeTolerance * Math.Max(1, Math.Abs(f));
            (x, f, g) = (xNext, fNext, gNext);
            if (stalled) break;
        }
        return new LbfgsResult(iteration, f, g.abs().max().ToDouble());
    }

    /// <summary>The two-loop recursion: <c>−H g</c> for the inverse-Hessian estimate the history defines.</summary>
    static Tensor Direction(Tensor g, List<(Tensor S, Tensor Y, double Rho)> history)
    {
        var q = g.clone();
        var alpha = new double[history.Count];
        for (int i = history.Count - 1; i >= 0; i--)
        {
            alpha[i] = history[i].Rho * history[i].S.dot(q).ToDouble();
            q.add_(history[i].Y, alpha: -alpha[i]);
        }
        if (history.Count > 0)
        {
            var (s, y, _) = history[^1];
            q.mul_(s.dot(y).ToDouble() / y.dot(y).ToDouble());
        }
        for (int i = 0; i < history.Count; i++)
        {
            double beta = history[i].Rho * history[i].Y.dot(q).ToDouble();
            q.add_(history[i].S, alpha: alpha[i] - beta);
        }
        return -q;
    }

    static (double Loss, Tensor Gradient) Evaluate(IReadOnlyList<Tensor> parameters, Func<Tensor> objective, Tensor x)
    {
        Write(parameters, x);
        Gradients.Zero(parameters);
        // The objective's intermediates die here; only the flat gradient outlives the evaluation.
        using var scope = NewDisposeScope();
        var loss = objective();
        loss.backward();
        return (loss.ToDouble(), Flatten(parameters, p => p.grad ?? zeros_like(p)).MoveToOuterDisposeScope());
    }

    static Tensor Flatten(IReadOnlyList<Tensor> parameters, Func<Tensor, Tensor> part) => cat(parameters.Select(p => part(p).reshape(-1)).ToArray());

    static void Write(IReadOnlyList<Tensor> parameters, Tensor x)
    {
        using var _ = no_grad();
        long offset = 0;
        foreach (var p in parameters)
        {
            p.copy_(x[TensorIndex.Slice(offset, offset + p.numel())].reshape(p.shape));
            offset += p.numel();
        }
    }
}
