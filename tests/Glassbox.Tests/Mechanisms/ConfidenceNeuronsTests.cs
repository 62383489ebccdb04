using Glassbox.Mechanisms;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Mechanisms;

public class ConfidenceNeuronsTests
{
    /// <summary>
    /// A planted entropy neuron: the unembedding is made blind to a direction r, and one last-layer neuron writes 10·r.
    /// It is the only neuron flagged, with ρ = 1; random neurons share ≈ 1/d_model of their output with r.
    /// </summary>
    [Fact]
    public void APlantedNeuronWritingWhereTheUnembeddingIsBlindIsTheEntropyNeuron()
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        using var scope = NewDisposeScope();
        int last = model.Config.NLayers - 1;
        var r = randn(model.Config.DModel, dtype: ScalarType.Float64, generator: new Generator(3));
        r /= r.norm();
        using (no_grad())
        {
            model.W_U.sub_(outer(r, matmul(r, model.W_U)));
            model.Blocks[last].Mlp!.W_out[7] = 10 * r;
        }
        var report = EntropyNeurons.Find(model, k: 1);
        var flagged = Assert.Single(report.Flagged);
        Assert.Equal((last, 7), (flagged.Layer, flagged.Neuron));
        Assert.Equal(1.0, flagged.Score, 9);
        Assert.Equal(10.0, flagged.OutputNorm, 9);
        Assert.True(report.Top.Skip(1).All(n => n.Score < 0.5), "unplanted neurons share little of their output with r");
        Assert.Contains("L" + last + "N7", report.ToText());
        Assert.Throws<GlassboxException>(() => EntropyNeurons.Find(model, k: model.Config.DModel));
    }

    /// <summary>
    /// v_f solves the least-squares problem v W_U ≈ φ (its residual is orthogonal to every row of W_U), and a neuron planted
    /// along it has cosine 1 and is the top one.
    /// </summary>
    [Fact]
    public void TheFrequencyDirectionIsTheLeastSquaresFitAndAPlantedNeuronAlongItIsFound()
    {
        using var model = TinyModels.Create("llama", ScalarType.Float64);
        using var scope = NewDisposeScope();
        var corpus = Enumerable.Range(0, 40).Select(s => Enumerable.Range(0, 16).Select(i => (long)((s * 7 + i * i) % 23)).ToArray()).ToList();
        var direction = TokenFrequencyNeurons.FrequencyDirection(model, corpus);
        var counts = new double[model.Config.VocabSize];
        foreach (var id in corpus.SelectMany(x => x)) counts[id]++;
        var phi = tensor(counts.Select(c => Math.Log(c + 1)).ToArray());
        phi -= phi.mean();
        var normal = matmul(phi - matmul(direction, model.W_U), model.W_U.t());
        Assert.True(normal.abs().max().item<double>() < 1e-8, "normal equations");

        int last = model.Config.NLayers - 1;
        using (no_grad()) model.Blocks[last].Mlp!.W_out[3] = -5 * direction;
        var report = TokenFrequencyNeurons.Find(model, corpus);
        Assert.Equal((last, 3), (report.Top[0].Layer, report.Top[0].Neuron));
        Assert.Equal(-1.0, report.Top[0].Score, 9);
        Assert.Contains(report.Flagged, n => n.Neuron == 3);
        Assert.Throws<GlassboxException>(() => TokenFrequencyNeurons.Find(model, [[model.Config.VocabSize]]));
    }
}
