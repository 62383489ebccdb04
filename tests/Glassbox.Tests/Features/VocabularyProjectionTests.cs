using Glassbox.Features;
using Glassbox.Sae;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Features;

public class VocabularyProjectionTests
{
    /// <summary>
    /// A direction's projection is its direct effect on the logits: adding it to the final residual changes the logits
    /// by exactly v W_U' to first order under RMSNorm's frozen scale. Checked without norms: for a neuron, the scores equal
    /// W_out[u] · diag(ln_final.w) · W_U computed by hand, and an SAE latent whose decoder row is that neuron's output row gets the same tokens.
    /// </summary>
    [Fact]
    public void NeuronOutputWeightsAndSaeDecoderRowsShareOneProjection()
    {
        using var model = TinyModels.Create("llama", ScalarType.Float64);
        var mlp = model.Blocks[1].Mlp!;
        var neuron = NeuronViews.Build(model, 1, [3], null, null, topTokens: 5).Units[0];
        using var expected = (mlp.W_out[3] * model.LnFinal.W).matmul(model.W_U);
        var order = expected.argsort(descending: true).data<long>().ToArray();
        Assert.Equal(order.Take(5).Select(i => (int)i), neuron.Output.Top.Select(t => t.Id));
        Assert.Equal(order.TakeLast(5).Reverse().Select(i => (int)i), neuron.Output.Bottom.Select(t => t.Id));
        Assert.Equal(expected[order[0]].item<double>(), neuron.Output.Top[0].Value, 12);

        using var dec = mlp.W_out.narrow(0, 0, 8).clone();
        var weights = new Dictionary<string, Tensor>
        {
            ["W_enc"] = dec.t(), ["b_enc"] = zeros(8, dtype: ScalarType.Float64), ["W_dec"] = dec, ["b_dec"] = zeros(model.Config.DModel, dtype: ScalarType.Float64),
        };
        using var sae = SparseAutoencoder.Create(new SaeConfig { Architecture = SaeArchitecture.Standard, DIn = model.Config.DModel, DSae = 8, HookName = "blocks.1.hook_resid_post" }, weights);
        var latent = SaeFeatureViews.Build(model, sae, [3], null, null, topTokens: 5).Units[0];
        Assert.Equal(neuron.Output.Top, latent.Output.Top);
    }

    [Fact]
    public void UnderLayerNormTheProjectionIgnoresTheDirectionsMean()
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        using var v = randn([1, model.Config.DModel], dtype: ScalarType.Float64, generator: new Generator(4));
        var plain = VocabularyProjection.Writes(model, v, [0], 6, null)[0];
        var shifted = VocabularyProjection.Writes(model, v + 3.0, [0], 6, null)[0];
        Assert.Equal(plain.Top.Select(t => t.Id), shifted.Top.Select(t => t.Id));
        Assert.Equal(plain.Top[0].Value, shifted.Top[0].Value, 9);
    }
}
