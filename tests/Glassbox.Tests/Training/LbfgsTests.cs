using Glassbox.Probing;
using Glassbox.Tests.Probing;
using Glassbox.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Glassbox.Tests.Training;

public class LbfgsTests(ITestOutputHelper output)
{
    [Fact]
    public void RosenbrocksValleyEndsAtItsMinimum()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new[] { -1.2 }).requires_grad_(true);
        var b = tensor(new[] { 1.0 }).requires_grad_(true);
        var result = Lbfgs.Minimize([a, b], () => (1 - a).square().sum() + 100 * (b - a.square()).square().sum(), new LbfgsOptions { MaxIterations = 200 });
        output.WriteLine($"Rosenbrock from (−1.2, 1): {result.Iterations} iterations, f {result.Loss:E2}, (a, b) = ({a.item<double>():F8}, {b.item<double>():F8})");
        Assert.Equal(1.0, a.item<double>(), 5);
        Assert.Equal(1.0, b.item<double>(), 5);
        Assert.True(result.Iterations < 100, $"{result.Iterations} iterations");
    }

    [Fact]
    public void AQuadraticEndsAtTheLinearSystemsSolution()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        var m = randn(30, 30, dtype: ScalarType.Float64, generator: generator);
        var spd = matmul(m, m.t()) / 30 + eye(30, dtype: ScalarType.Float64);
        var rhs = randn(30, dtype: ScalarType.Float64, generator: generator);
        var x = zeros(30, dtype: ScalarType.Float64).requires_grad_(true);
        var result = Lbfgs.Minimize([x], () => 0.5 * x.dot(matmul(spd, x)) - rhs.dot(x), new LbfgsOptions { GradientTolerance = 1e-10, ChangeTolerance = 0 });
        var exact = linalg.solve(spd, rhs);
        double error = (x.detach() - exact).abs().max().item<double>();
        output.WriteLine($"quadratic in 30 dimensions: {result.Iterations} iterations, max |x − A⁻¹b| = {error:E2}");
        Assert.True(error < 1e-8, $"error {error:E2}");
    }

    [Fact]
    public void OnTheLinearProbesObjectiveItReachesTheOptimumAdamWApproaches()
    {
        using var scope = NewDisposeScope();
        var (x, labels, _) = PlantedData.Create(400, 32, 1.0, seed: 9);
        var features = (x - x.mean([0])) / x.std(0);
        var y = tensor(labels.Select(v => (long)v).ToArray());
        (double Loss, double MaxGradient) Fit(Action<Tensor, Tensor, Func<Tensor>> optimise)
        {
            var w = zeros(32, 2).requires_grad_(true);
            var b = zeros(2).requires_grad_(true);
            Tensor Objective() => nn.functional.cross_entropy(matmul(features, w) + b, y) + 1e-3 * w.square().sum();
            optimise(w, b, Objective);
            w.grad?.zero_(); b.grad?.zero_();
            var loss = Objective();
            loss.backward();
            return (loss.item<float>(), Math.Max(w.grad!.abs().max().item<float>(), b.grad!.abs().max().item<float>()));
        }
        Action<Tensor, Tensor, Func<Tensor>> AdamWFor(int steps) => (w, b, objective) =>
        {
            using var adam = new AdamW([w, b], weightDecay: 0);
            for (int i = 0; i < steps; i++)
            {
                using var inner = NewDisposeScope();
                adam.ZeroGrad();
                objective().backward();
                adam.Step(0.1);
            }
        };
        var lbfgs = Fit((w, b, objective) => Lbfgs.Minimize([w, b], objective));
        var adam100 = Fit(AdamWFor(100));
        var adam2000 = Fit(AdamWFor(2000));
        output.WriteLine($"probe objective: L-BFGS {lbfgs.Loss:F7} (max |∇| {lbfgs.MaxGradient:E1}), AdamW 100 steps {adam100.Loss:F7} ({adam100.MaxGradient:E1}), 2000 steps {adam2000.Loss:F7} ({adam2000.MaxGradient:E1})");
        Assert.True(lbfgs.MaxGradient < 1e-4, $"gradient at the L-BFGS point {lbfgs.MaxGradient:E2}");
        Assert.True(lbfgs.Loss <= adam100.Loss + 1e-6 && lbfgs.Loss <= adam2000.Loss + 1e-6);

        // Through the probe API: the same planted concept, held out.
        var (train, test) = ProbeSweep.Split(400, 0.3, seed: 1);
        using var probe = LinearProbe.Train(x[tensor(train.Select(i => (long)i).ToArray())], train.Select(i => labels[i]).ToArray(), 2,
            new ProbeTraining { Optimizer = ProbeOptimizer.Lbfgs });
        double accuracy = probe.Accuracy(x[tensor(test.Select(i => (long)i).ToArray())], test.Select(i => labels[i]).ToArray());
        output.WriteLine($"L-BFGS probe held-out accuracy {accuracy:F3}");
        Assert.True(accuracy >= 0.75, $"accuracy {accuracy:F3}");
    }
}
