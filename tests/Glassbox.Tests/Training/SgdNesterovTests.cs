using Glassbox.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Tests.Training;

public class SgdNesterovTests
{
    /// <summary>
    /// Five steps on a quadratic loss, float64, against TorchSharp's own <c>optim.SGD(nesterov: true)</c>: the matrix (with
    /// weight decay) and the bias (none, as Glassbox never decays vectors) follow it to 1e-12.
    /// </summary>
    [Fact]
    public void StepsLikeTorchsNesterovSgd()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(5);
        var x = randn(new long[] { 16, 4 }, dtype: ScalarType.Float64, generator: generator);
        var y = randn(new long[] { 16, 3 }, dtype: ScalarType.Float64, generator: generator);
        var w0 = randn(new long[] { 4, 3 }, dtype: ScalarType.Float64, generator: generator);
        var b0 = randn(new long[] { 3 }, dtype: ScalarType.Float64, generator: generator);
        Tensor Loss(Tensor w, Tensor b) => (matmul(x, w) + b - y).square().mean();

        var (w, b) = (w0.clone().requires_grad_(), b0.clone().requires_grad_());
        using var ours = new SgdNesterov([w, b], momentum: 0.9, weightDecay: 0.1);
        var (tw, tb) = (new TorchSharp.Modules.Parameter(w0.clone()), new TorchSharp.Modules.Parameter(b0.clone()));
        var matrices = optim.SGD([tw], 0.05, momentum: 0.9, weight_decay: 0.1, nesterov: true);
        var vectors = optim.SGD([tb], 0.05, momentum: 0.9, nesterov: true);
        for (int step = 0; step < 5; step++)
        {
            ours.ZeroGrad();
            Loss(w, b).backward();
            ours.Step(0.05);
            matrices.zero_grad();
            vectors.zero_grad();
            Loss(tw, tb).backward();
            matrices.step();
            vectors.step();
        }
        Assert.True((w - tw).abs().max().item<double>() < 1e-12);
        Assert.True((b - tb).abs().max().item<double>() < 1e-12);
        Assert.True((w - w0).abs().max().item<double>() > 1e-3, "the steps must move the weights");
    }
}
