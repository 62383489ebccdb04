using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Training;

/// <summary>A first-order optimiser over a fixed list of parameters: clear, clip and apply their gradients.</summary>
public interface IOptimizer : IDisposable
{
    IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>One update with learning rate <paramref name="lr"/> from the parameters' current gradients.</summary>
    void Step(double lr);

    void ZeroGrad();

    /// <summary>Scales all gradients so their global L2 norm is at most <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    double ClipGradients(double maxNorm);
}

/// <summary>What every optimiser does to its parameters' gradients before a step.</summary>
public static class Gradients
{
    public static void Zero(IEnumerable<Tensor> parameters)
    {
        foreach (var p in parameters) p.grad?.zero_();
    }

    /// <inheritdoc cref="IOptimizer.ClipGradients"/>
    public static double ClipNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).ToList();
        double norm = Math.Sqrt(grads.Sum(g => g!.square().sum().ToDouble()));
        if (norm > maxNorm) foreach (var g in grads) g!.mul_(maxNorm / (norm + 1e-6));
        return norm;
    }
}
