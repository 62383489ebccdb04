using Glassbox.Circuits;
using Glassbox.Datasets;
using Glassbox.Tests.ModelZoo;
using Glassbox.Tests.Models;
using TorchSharp;
using Xunit.Abstractions;

namespace Glassbox.Tests.Circuits;

public class InformationFlowRoutesTests(ITestOutputHelper output)
{
    static readonly long[] Context = [3, 17, 5, 42, 8, 11, 29];

    [Theory]
    [InlineData("gpt2", true)]
    [InlineData("llama", false)]
    [InlineData("attn-only", true)]
    [InlineData("neox", true)]
    public void EveryNodesIncomingImportancesSumToOneWhenNothingIsPruned(string arch, bool perHead)
    {
        using var model = TinyModels.Create(arch, torch.ScalarType.Float64);
        var routes = InformationFlowRoutes.Build(model, Context, threshold: 0, perHead: perHead);
        Assert.Equal($"X{model.Config.NLayers}_{Context.Length - 1}", routes.Nodes[0].Id);
        foreach (var node in routes.Nodes.Where(n => n.Mid || n.Layer > 0))
            Assert.Equal(1.0, routes.Edges.Where(e => e.To == node.Id && e.Kind != "head").Sum(e => e.Importance), 9);
        foreach (var edge in routes.Edges.Where(e => e.Kind == "attn" && perHead))
        {
            var heads = routes.Edges.Where(e => e.Kind == "head" && e.From == edge.From && e.To == edge.To).ToList();
            Assert.Equal(model.Config.NHeads, heads.Count);
            Assert.Equal(edge.Importance, heads.Sum(e => e.Importance), 12);
        }
        Assert.Equal(perHead, routes.Edges.Any(e => e.Kind == "head"));
        Assert.All(routes.Edges, e => Assert.True(e.Importance > 0));

        var rootOnly = InformationFlowRoutes.Build(model, Context, threshold: 1);
        Assert.Single(rootOnly.Nodes);
        Assert.Empty(rootOnly.Edges);
    }

    [Fact]
    public void TheGraphExportsAsJsonAndDot()
    {
        using var model = TinyModels.Create("gpt2");
        var routes = InformationFlowRoutes.Build(model, Context);
        var dot = routes.ToDot();
        Assert.StartsWith("digraph", dot);
        Assert.Equal(routes.Edges.Count, dot.Split('\n').Count(l => l.Contains("->")));
        using var json = System.Text.Json.JsonDocument.Parse(routes.ToJson());
        Assert.Equal(routes.Edges.Count, json.RootElement.GetProperty("edges").GetArrayLength());
        Assert.Equal(0.04, json.RootElement.GetProperty("threshold").GetDouble());
    }

    /// <summary>
    /// On IOI prompts at the default τ the routes run through all four layer-0 heads: the model card's name carriers L0H0–L0H2
    /// and previous-token heads L0H0/L0H3. The card's movers (L2H0, L1H3, L1H0) suppress the subject: their write at the end
    /// position shrinks the residual (17 of these 20 prompts), so its proximity ‖y‖₁ − ‖y − z‖₁ is not positive and the routes
    /// cannot contain them (L2H0 is on 1 route, L1H3 on none, L1H0 on 3),
    /// although L2H0 has the largest direct effect on logit(IO) − logit(S). The test measures both facts.
    /// </summary>
    [Fact]
    public void OnIoiGpt2TheRoutesRunThroughTheLayerZeroHeadsAndCannotSeeTheSuppressingMovers()
    {
        using var zoo = new ZooModel("ioi-gpt2-4l");
        var prompts = new IoiDataset(zoo.Tokenizer).Generate(20, 4242);
        var model = zoo.Model;
        var counts = new int[model.Config.NLayers, model.Config.NHeads];
        int empty = 0, shrinking = 0, promoting = 0;
        foreach (var prompt in prompts)
        {
            var ids = prompt.Ids[..(prompt.EndPosition + 1)].Select(i => (long)i).ToArray();
            var routes = InformationFlowRoutes.Build(model, ids);
            foreach (var (l, h) in routes.Heads) counts[l, h]++;
            empty += routes.Edges.Count == 0 ? 1 : 0;

            using var scope = torch.NewDisposeScope();
            using var d = Glassbox.Attribution.AttentionDecomposition.Run(model, ids);
            int end = prompt.EndPosition;
            var write = d.HeadTerms(2, end, 1)[0].sum([0])[0];
            var y = d.ResidMid(2)[end];
            shrinking += (y - write).abs().sum().item<float>() >= y.abs().sum().item<float>() ? 1 : 0;
            promoting += torch.dot(write, d.LogitDirection(end, prompt.IoToken, prompt.SToken)).item<float>() > 0 ? 1 : 0;
        }
        output.WriteLine($"prompts (of {prompts.Count}) whose routes contain each head ({empty} routes are empty); L2H0's end write shrinks the residual on {shrinking} and raises logit(IO) − logit(S) on {promoting}:\n" +
            string.Join("\n", Enumerable.Range(0, counts.GetLength(0)).Select(l => $"L{l}: " + string.Join(" ", Enumerable.Range(0, counts.GetLength(1)).Select(h => $"H{h}={counts[l, h]}")))));
        Assert.Equal(0, empty);
        for (int h = 0; h < 4; h++)
            Assert.True(counts[0, h] >= 18, $"L0H{h} is on the routes of only {counts[0, h]}/{prompts.Count} prompts");
        Assert.True(shrinking >= 15 && promoting >= 18, $"L2H0 shrinks the residual on {shrinking} and promotes IO on {promoting} of {prompts.Count} prompts");
        Assert.True(counts[2, 0] <= 2, $"L2H0 is on {counts[2, 0]} routes");
    }
}
