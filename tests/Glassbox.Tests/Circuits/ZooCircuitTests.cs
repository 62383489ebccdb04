using Glassbox.Circuits;
using Glassbox.Datasets;
using Glassbox.Patching;
using Glassbox.Tests.ModelZoo;
using Xunit.Abstractions;

namespace Glassbox.Tests.Circuits;

/// <summary>Circuit discovery scored on the zoo's known answers (models/*/MODEL_CARD.md).</summary>
public class IoiCircuitTests(IoiGpt2Fixture f, ITestOutputHelper output) : IClassFixture<IoiGpt2Fixture>
{
    PatchingTask Task(int count) => PatchingTask.Ioi(new IoiDataset(f.Probe.Zoo.Tokenizer).Generate(count, 4242));

    [Fact]
    public void EapIgCircuitWithAFifthOfTheEdgesRecoversTheLogitDifference()
    {
        using var task = Task(120);
        var circuit = EdgeAttributionPatching.Discover(f.Probe.Zoo.Model, task, steps: 5, keepFraction: 0.2);
        output.WriteLine(circuit.ToText());
        Assert.True(circuit.Edges.Count() <= 0.2 * circuit.Graph.Edges.Count);
        Assert.True(circuit.Faithfulness!.Normalised >= 0.8, $"faithfulness {circuit.Faithfulness.Normalised}");
        foreach (var head in new[] { "L2H0", "L1H3", "L0H0" }) Assert.Contains(head, circuit.Nodes);
    }

    [Fact]
    public void AcdcCircuitWithAFifthOfTheEdgesRecoversTheLogitDifference()
    {
        using var task = Task(40);
        var circuit = Acdc.Discover(f.Probe.Zoo.Model, task, tau: 0.02);
        output.WriteLine(circuit.ToText());
        Assert.True(circuit.Edges.Count() <= 0.2 * circuit.Graph.Edges.Count);
        Assert.True(circuit.Faithfulness!.Normalised >= 0.8, $"faithfulness {circuit.Faithfulness.Normalised}");
        foreach (var head in new[] { "L2H0", "L1H3", "L0H0" }) Assert.Contains(head, circuit.Nodes);
    }
}

public class InductionCircuitTests(AttnOnly2LFixture f, ITestOutputHelper output) : IClassFixture<AttnOnly2LFixture>
{
    [Fact]
    public void EapIgFindsThePreviousTokenHeadsKCompositionWithInductionHeads()
    {
        using var task = PatchingTask.Induction(new InductionDataset(f.Zoo.Tokenizer, halfLength: 20), batch: 8, seed: 12345);
        var circuit = EdgeAttributionPatching.Discover(f.Zoo.Model, task, steps: 5, keepFraction: 0.25);
        output.WriteLine(circuit.ToText());
        Assert.Contains(circuit.Edges, e => e.From.Name == "L0H0" && e.To.Group.Layer == 1 && e.To.Group.Port == 'k');
    }

    [Fact]
    public void AcdcFindsThePreviousTokenHeadsKCompositionWithInductionHeads()
    {
        using var task = PatchingTask.Induction(new InductionDataset(f.Zoo.Tokenizer, halfLength: 20), batch: 8, seed: 12345);
        var circuit = Acdc.Discover(f.Zoo.Model, task, tau: 0.05);
        output.WriteLine(circuit.ToText());
        Assert.Contains(circuit.Edges, e => e.From.Name == "L0H0" && e.To.Group.Layer == 1 && e.To.Group.Port == 'k');
    }
}
