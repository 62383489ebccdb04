namespace Glassbox.Attribution;

/// <summary>
/// How integrated gradients approximates ∫₀¹ g(α) dα from m evaluations. <see cref="GradedGaussLegendre"/> (the default)
/// is Gauss–Legendre after the substitution α = s³, which packs nodes near the baseline: from a zero baseline a model
/// without learned positions (Llama) sends a near-zero residual through RMSNorm, whose output jumps from 0 to full
/// size over α ≈ √ε/rms(e), a spike that plain Gauss–Legendre with 64 nodes misses by 20–30%.
/// </summary>
public enum IntegrationRule { GradedGaussLegendre, GaussLegendre, Trapezoid, RiemannLeft, RiemannRight, RiemannMiddle }

/// <summary>Nodes α_s in [0, 1] and weights w_s with Σ_s w_s g(α_s) ≈ ∫₀¹ g(α) dα.</summary>
public static class Quadrature
{
    public static (double[] Alphas, double[] Weights) Rule(IntegrationRule rule, int steps)
    {
        if (steps < 1 || (rule == IntegrationRule.Trapezoid && steps < 2))
            throw new GlassboxException($"Integrated gradients needs at least {(rule == IntegrationRule.Trapezoid ? 2 : 1)} steps with the {rule} rule, got {steps}.");
        double h = 1.0 / steps;
        return rule switch
        {
            IntegrationRule.GaussLegendre => GaussLegendre(steps),
            IntegrationRule.GradedGaussLegendre => Graded(GaussLegendre(steps)),
            IntegrationRule.Trapezoid => (Enumerable.Range(0, steps).Select(s => s / (steps - 1.0)).ToArray(),
                Enumerable.Range(0, steps).Select(s => (s == 0 || s == steps - 1 ? 0.5 : 1.0) / (steps - 1)).ToArray()),
            IntegrationRule.RiemannLeft => (Enumerable.Range(0, steps).Select(s => s * h).ToArray(), Enumerable.Repeat(h, steps).ToArray()),
            IntegrationRule.RiemannRight => (Enumerable.Range(1, steps).Select(s => s * h).ToArray(), Enumerable.Repeat(h, steps).ToArray()),
            _ => (Enumerable.Range(0, steps).Select(s => (s + 0.5) * h).ToArray(), Enumerable.Repeat(h, steps).ToArray()),
        };
    }

    /// <summary>∫₀¹ g(α) dα = ∫₀¹ g(s³) 3s² ds.</summary>
    static (double[], double[]) Graded((double[] S, double[] W) rule) =>
        (rule.S.Select(s => s * s * s).ToArray(), rule.S.Zip(rule.W, (s, w) => 3 * s * s * w).ToArray());

    /// <summary>Gauss–Legendre nodes by Newton's method on P_m, mapped from [−1, 1] to [0, 1].</summary>
    static (double[], double[]) GaussLegendre(int m)
    {
        var alphas = new double[m];
        var weights = new double[m];
        for (int i = 0; i < m; i++)
        {
            double x = Math.Cos(Math.PI * (i + 0.75) / (m + 0.5)), derivative = 0;
            for (int iter = 0; iter < 100; iter++)
            {
                double p0 = 1, p1 = x;
                for (int k = 2; k <= m; k++) (p0, p1) = (p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k);
                derivative = m * (x * p1 - p0) / (x * x - 1);
                double dx = p1 / derivative;
                x -= dx;
                if (Math.Abs(dx) < 1e-15) break;
            }
            alphas[i] = (1 - x) / 2;
            weights[i] = 1 / ((1 - x * x) * derivative * derivative);
        }
        return (alphas, weights);
    }
}
