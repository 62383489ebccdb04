using System.Net.Http.Json;
using System.Text.Json;
using Glassbox.Attribution;
using Glassbox.Features;
using Glassbox.Loading;
using Glassbox.Mechanisms;
using Glassbox.Patching;
using Glassbox.Sae;
using Glassbox.Web;
using TorchSharp;

namespace Glassbox.Tests.Web;

/// <summary>The views over the technique libraries send exactly what the libraries compute, and refuse bad input clearly.</summary>
[Collection(ViewerCollection.Name)]
public class TechniqueApiTests(ViewerServer server)
{
    static double[] Row(JsonElement heatmap, int row) => heatmap.GetProperty("values")[row].EnumerateArray().Select(v => v.GetDouble()).ToArray();

    [Fact]
    public async Task AttributionIsTheLibrarysResultForTheModelsPrediction()
    {
        var json = await server.PostOk("attribution", new { prompt = ViewerServer.IoiPrompt, method = "integrated_gradients" });
        Assert.Equal("Mary", json.GetProperty("target").GetString());
        var grid = json.GetProperty("heatmaps")[0];

        var path = Path.Combine(ViewerServer.ModelsDir, "ioi-gpt2-4l");
        using var model = ModelLoader.Load(path);
        var tokenizer = ModelLoader.FindTokenizer(path, model.Config)!;
        var ids = tokenizer.Encode(ViewerServer.IoiPrompt).Select(i => (long)i).ToArray();
        long mary = tokenizer.TokenToId("Mary")!.Value;
        var expected = Attributor.Run(model, AttributionMethods.Create("integrated_gradients"), ids, [mary], new AttributionTarget(mary));
        Assert.Equal(ids.Length, grid.GetProperty("columnLabels").GetArrayLength());
        var actual = Row(grid, 0);
        for (int j = 0; j < ids.Length; j++) Assert.Equal(expected.Scores[0, j], actual[j], 9);
        Assert.Equal(expected.Steps[0].CompletenessError!.Value, json.GetProperty("completenessError").GetDouble(), 9);
    }

    [Fact]
    public async Task AttributionNamesItsTargetAndRefusesUnknownMethodsAndMultiTokenTargets()
    {
        var john = await server.PostOk("attribution", new { prompt = ViewerServer.IoiPrompt, method = "alti", target = "John" });
        Assert.Equal("John", john.GetProperty("target").GetString());
        Assert.True(john.GetProperty("heatmaps").GetArrayLength() >= 2); // ALTI has a layer × source grid too
        // A word-level vocabulary is one word per token: summing by word changes nothing.
        var byWord = await server.PostOk("attribution", new { prompt = ViewerServer.IoiPrompt, method = "alti", target = "John", words = true });
        Assert.Equal(john.GetProperty("heatmaps")[0].GetProperty("values").GetRawText(), byWord.GetProperty("heatmaps")[0].GetProperty("values").GetRawText());

        var (status, body) = await server.Post("attribution", new { prompt = ViewerServer.IoiPrompt, method = "salency" });
        Assert.Equal(400, status);
        Assert.Contains("did you mean 'saliency'?", body.GetProperty("error").GetString());
        (status, body) = await server.Post("attribution", new { prompt = ViewerServer.IoiPrompt, target = "Mary John" });
        Assert.Equal(400, status);
        Assert.Contains("target 'Mary John' is 2 tokens, not one", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task FlowGraphKeepsEdgesAboveTauAndItsRootProjectsToTheModelsOutput()
    {
        var flow = await server.PostOk("flow", new { prompt = ViewerServer.IoiPrompt, threshold = 0.04 });
        int n = flow.GetProperty("tokens").GetArrayLength();
        var nodes = flow.GetProperty("nodes").EnumerateArray().Select(x => x.GetProperty("id").GetString()).ToHashSet();
        Assert.Equal($"X4_{n - 1}", flow.GetProperty("nodes")[0].GetProperty("id").GetString());
        foreach (var e in flow.GetProperty("edges").EnumerateArray())
        {
            Assert.True(e.GetProperty("importance").GetDouble() > 0.04);
            Assert.Contains(e.GetProperty("from").GetString(), nodes);
            Assert.Contains(e.GetProperty("to").GetString(), nodes);
        }

        // The root is the final residual: its vocabulary projection is the model's own next-token distribution.
        var root = await server.PostOk("flow/node", new { prompt = ViewerServer.IoiPrompt, node = $"X4_{n - 1}", top = 3 });
        var tokens = await server.PostOk("tokens", new { prompt = ViewerServer.IoiPrompt, top = 3 });
        var last = tokens.GetProperty("tokens")[n - 1].GetProperty("top");
        for (int k = 0; k < 3; k++)
        {
            Assert.Equal(last[k].GetProperty("id").GetInt32(), root.GetProperty("top")[k].GetProperty("id").GetInt32());
            Assert.Equal(last[k].GetProperty("probability").GetDouble(), root.GetProperty("top")[k].GetProperty("probability").GetDouble(), 5);
        }

        var (status, body) = await server.Post("flow/node", new { prompt = ViewerServer.IoiPrompt, node = "X9_0" });
        Assert.Equal(400, status);
        Assert.Contains("outside this prompt's graph", body.GetProperty("error").GetString());
        (status, body) = await server.Post("flow", new { prompt = ViewerServer.IoiPrompt, threshold = 2 });
        Assert.Equal(400, status);
        Assert.Contains("threshold must be between 0 and 1", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task HeadWritesAreEachHeadsResultReadThroughTheFinalNormAndShowTheSubjectSuppressed()
    {
        var path = Path.Combine(ViewerServer.ModelsDir, "ioi-gpt2-4l");
        using var model = ModelLoader.Load(path);
        var tokenizer = ModelLoader.FindTokenizer(path, model.Config)!;
        var ids = tokenizer.Encode(ViewerServer.IoiPrompt).Select(i => (long)i).ToArray();
        int end = ids.Length - 1;
        // M2 (after layer 2's attention) and X3 (entering layer 3) were both written by layer 2's heads.
        var json = await server.PostOk("flow/heads", new { prompt = ViewerServer.IoiPrompt, node = $"M2_{end}", top = 10 });
        Assert.Equal(json.GetProperty("heads").ToString(), (await server.PostOk("flow/heads", new { prompt = ViewerServer.IoiPrompt, node = $"X3_{end}", top = 10 })).GetProperty("heads").ToString());
        Assert.Equal(2, json.GetProperty("layer").GetInt32());
        Assert.Equal(end, json.GetProperty("position").GetInt32());

        using var scope = torch.NewDisposeScope();
        var (_, cache) = model.RunWithCache(torch.tensor(ids).unsqueeze(0), "blocks.2.attn.hook_result,ln_final.hook_scale");
        using (cache)
        {
            var writes = cache["blocks.2.attn.hook_result"][0, end].to(torch.ScalarType.Float64);      // [head, d_model]
            var scale = cache["ln_final.hook_scale"][0, end];
            // Every token's logit effect of each head's write: z^h W_O^h · P(γ ⊙ W_U[:, t])/σ.
            var all = writes.matmul(DirectLogitAttribution.ReadDirection(model, model.W_U.t().to(torch.ScalarType.Float64), scale).t()); // [head, vocab]
            var heads = json.GetProperty("heads");
            Assert.Equal(model.Config.NHeads, heads.GetArrayLength());
            foreach (var head in heads.EnumerateArray())
            {
                int h = head.GetProperty("head").GetInt32();
                Assert.Equal(writes[h].norm().item<double>(), head.GetProperty("norm").GetDouble(), 9);
                var (top, bottom) = (all[h].topk(10), all[h].topk(10, largest: false));
                foreach (var (side, expected) in new[] { ("promoted", top), ("suppressed", bottom) })
                {
                    var tokens = head.GetProperty(side).EnumerateArray().ToArray();
                    Assert.Equal(expected.indexes.data<long>().Select(i => (int)i), tokens.Select(t => t.GetProperty("id").GetInt32()));
                    var values = expected.values.data<double>().ToArray();
                    for (int k = 0; k < 10; k++) Assert.Equal(values[k], tokens[k].GetProperty("value").GetDouble(), 1e-4);
                }
            }
            // L2H0, the card's strongest subject suppressor, writes against the subject John at the end position.
            Assert.Contains("John", heads[0].GetProperty("suppressed").EnumerateArray().Select(t => t.GetProperty("token").GetString()!.Trim()));
        }
    }

    [Fact]
    public async Task MechanismsAreTheDetectorsReportOnTheLoadedModel()
    {
        var json = await server.Client.GetFromJsonAsync<JsonElement>("/api/mechanisms");
        var path = Path.Combine(ViewerServer.ModelsDir, "ioi-gpt2-4l");
        using var model = ModelLoader.Load(path);
        var expected = MechanismDetector.Run(model, ModelLoader.FindTokenizer(path, model.Config)!, ViewerServer.Mechanisms, "ioi-gpt2-4l");

        Assert.Equal("ioi-gpt2-4l", json.GetProperty("model").GetString());
        Assert.Equal(expected.InductionLoss.SecondHalf, json.GetProperty("inductionLoss").GetProperty("secondHalf").GetDouble());
        Assert.Equal(expected.Ioi!.LogitDiff, json.GetProperty("ioiLogitDiff").GetDouble());
        var maps = json.GetProperty("heatmaps");
        Assert.Equal(expected.Scores.Select(s => s.Metric), maps.EnumerateArray().Select(m => m.GetProperty("title").GetString()));
        for (int i = 0; i < expected.Scores.Count; i++)
            for (int l = 0; l < expected.Layers; l++)
                for (int h = 0; h < expected.Heads; h++)
                    Assert.Equal(expected.Scores[i][l, h], ViewerServer.Number(maps[i].GetProperty("values")[l][h]));
        var findings = json.GetProperty("findings").EnumerateArray().ToArray();
        Assert.Equal(expected.Findings.Count, findings.Length);
        foreach (var (f, j) in expected.Findings.Zip(findings))
        {
            Assert.Equal((f.Name, f.Label, f.Verdict), (j.GetProperty("name").GetString(), j.GetProperty("label").GetString(), j.GetProperty("verdict").GetString()));
            Assert.Equal(f.Score, j.GetProperty("score").GetDouble());
            Assert.Equal(f.EvidenceValue, j.GetProperty("evidenceValue").ValueKind == JsonValueKind.Null ? null : j.GetProperty("evidenceValue").GetDouble());
        }
        Assert.Equal(expected.Groups.Select(g => (g.Label, g.Clean, g.Ablated)),
            json.GetProperty("groups").EnumerateArray().Select(g => (g.GetProperty("label").GetString()!, g.GetProperty("clean").GetDouble(), g.GetProperty("ablated").GetDouble())));
        // The card's subject-suppression mover is among the detected heads.
        Assert.Contains(expected.Findings, f => f is { Name: "L2H0", Label: "IOI S-suppression mover" });

        // Kept for the session: a second request sends the same report.
        Assert.Equal(json.GetRawText(), await server.Client.GetStringAsync("/api/mechanisms"));
    }

}

[Collection(ViewerCollection.Name)]
public class PatchingApiTests(ViewerServer server)
{
    const string Corrupted = "When Mary and John went to the store , Mary gave a drink to";

    [Fact]
    public async Task DlaPartsSumToTheLogitDifferenceOfTheTopTwoPredictions()
    {
        var dla = await server.PostOk("dla", new { prompt = ViewerServer.IoiPrompt });
        Assert.Equal("Mary", dla.GetProperty("answer").GetString());
        Assert.Equal("John", dla.GetProperty("wrong").GetString());
        double sum = dla.GetProperty("parts").EnumerateArray().Sum(p => p.GetProperty("value").GetDouble()) + dla.GetProperty("constant").GetDouble();
        Assert.Equal(dla.GetProperty("actual").GetDouble(), sum, 4);

        var tokens = (await server.PostOk("tokens", new { prompt = ViewerServer.IoiPrompt, top = 2 })).GetProperty("tokens");
        var top = tokens[tokens.GetArrayLength() - 1].GetProperty("top");
        Assert.True(dla.GetProperty("actual").GetDouble() > 0);
        Assert.Equal(Math.Log(top[0].GetProperty("probability").GetDouble() / top[1].GetProperty("probability").GetDouble()), dla.GetProperty("actual").GetDouble(), 4);

        var (status, body) = await server.Post("dla", new { prompt = ViewerServer.IoiPrompt, answer = "Mary", wrong = "Mary" });
        Assert.Equal(400, status);
        Assert.Contains("the same token", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task PatchingTheOnlyChangedResidualRestoresTheCleanRun()
    {
        var patch = await server.PostOk("patching", new { prompt = ViewerServer.IoiPrompt, corrupted = Corrupted, answer = "Mary", wrong = "John", site = "resid_pre" });
        Assert.True(patch.GetProperty("clean").GetDouble() > 0 && patch.GetProperty("corrupted").GetDouble() < 0);
        // Layer 0's residual differs only at the swapped name (position 10): patching it there is the clean run, elsewhere a no-op.
        var normalised = patch.GetProperty("heatmaps")[0].GetProperty("values")[0].EnumerateArray().Select(v => v.GetDouble()).ToArray();
        for (int p = 0; p < normalised.Length; p++) Assert.Equal(p == 10 ? 1.0 : 0.0, normalised[p], 4);

        var (status, body) = await server.Post("patching", new { prompt = ViewerServer.IoiPrompt, corrupted = "When Mary gave a drink to", answer = "Mary" });
        Assert.Equal(400, status);
        Assert.Contains("same length", body.GetProperty("error").GetString());
        (status, body) = await server.Post("patching", new { prompt = ViewerServer.IoiPrompt, corrupted = Corrupted, answer = "Mary", site = "everything" });
        Assert.Equal(400, status);
        Assert.Contains("Unknown patch site 'everything'", body.GetProperty("error").GetString());
    }
}

[Collection(ViewerCollection.Name)]
public class NeuronApiTests(ViewerServer server)
{
    [Fact]
    public async Task NeuronPageReadsTheModelsActivationsAndItsTopContexts()
    {
        var page = await server.PostOk("neurons", new { prompt = ViewerServer.IoiPrompt, layer = 1 });
        var top = page.GetProperty("topAtLastToken").EnumerateArray().Select(n => (N: n.GetProperty("neuron").GetInt32(), A: n.GetProperty("activation").GetDouble())).ToArray();
        Assert.Equal(top[0].N, page.GetProperty("neuron").GetInt32()); // default: the most active neuron at the last token
        Assert.True(top.Zip(top.Skip(1)).All(p => p.First.A >= p.Second.A));

        var path = Path.Combine(ViewerServer.ModelsDir, "ioi-gpt2-4l");
        using var model = ModelLoader.Load(path);
        var ids = ModelLoader.FindTokenizer(path, model.Config)!.Encode(ViewerServer.IoiPrompt).Select(i => (long)i).ToArray();
        var (_, cache) = model.RunWithCache(TorchSharp.torch.tensor(ids).unsqueeze(0), "blocks.1.mlp.hook_post");
        using (cache)
        {
            var post = cache["blocks.1.mlp.hook_post"][0];
            var activations = page.GetProperty("activations").EnumerateArray().Select(a => a.GetDouble()).ToArray();
            for (int i = 0; i < ids.Length; i++) Assert.Equal(post[i, top[0].N].item<float>(), activations[i], 4);
            Assert.Equal(post[-1].max().item<float>(), top[0].A, 4);
        }

        // Top contexts over the sampled corpus, best first, with the unit's density and output projection.
        var contexts = page.GetProperty("contexts").EnumerateArray().Select(c => c.GetProperty("activation").GetDouble()).ToArray();
        Assert.Equal(10, contexts.Length);
        Assert.True(contexts.Zip(contexts.Skip(1)).All(p => p.First >= p.Second));
        var unit = page.GetProperty("views").GetProperty("units")[0];
        Assert.InRange(unit.GetProperty("density").GetDouble(), 0, 1);
        Assert.Equal(10, unit.GetProperty("output").GetProperty("top").GetArrayLength());

        var (status, body) = await server.Post("neurons", new { prompt = ViewerServer.IoiPrompt, layer = 1, neuron = 384 });
        Assert.Equal(400, status);
        Assert.Contains("neuron 384 does not exist; layer 1 has neurons 0..383", body.GetProperty("error").GetString());
        (status, body) = await server.Post("neurons", new { prompt = ViewerServer.IoiPrompt, layer = 7 });
        Assert.Equal(400, status);
        Assert.Contains("layer 7 does not exist", body.GetProperty("error").GetString());
    }
}

[Collection(ViewerCollection.Name)]
public class SaeFeatureApiTests(ViewerServer server)
{
    [Fact]
    public async Task FeaturePageIsTheSaeLibrarysViewOverTheSameCorpus()
    {
        var page = await server.PostOk("features", new { prompt = ViewerServer.IoiPrompt });
        Assert.Equal("sae", page.GetProperty("source").GetString());
        Assert.Equal(ViewerServer.SaeFeatures, page.GetProperty("neurons").GetInt32());
        var top = page.GetProperty("topAtLastToken").EnumerateArray().Select(n => (F: n.GetProperty("neuron").GetInt32(), A: n.GetProperty("activation").GetDouble())).ToArray();
        int feature = page.GetProperty("neuron").GetInt32();
        Assert.Equal(top[0].F, feature);
        Assert.True(top[0].A > 0, "the default feature fires at the last token");

        var path = Path.Combine(ViewerServer.ModelsDir, "ioi-gpt2-4l");
        using var model = ModelLoader.Load(path);
        var tokenizer = ModelLoader.FindTokenizer(path, model.Config)!;
        using var sae = SaeFiles.Load(server.SaeDirectory, model.Device);
        var ids = tokenizer.Encode(ViewerServer.IoiPrompt).Select(i => (long)i).ToArray();
        var (_, cache) = model.RunWithCache(TorchSharp.torch.tensor(ids).unsqueeze(0), ViewerServer.SaeHook);
        using (cache)
        {
            using var acts = sae.Encode(cache[ViewerServer.SaeHook][0]);
            var activations = page.GetProperty("activations").EnumerateArray().Select(a => a.GetDouble()).ToArray();
            for (int i = 0; i < ids.Length; i++) Assert.Equal(acts[i, feature].item<float>(), activations[i], 4);
            Assert.Equal(acts[-1].max().item<float>(), top[0].A, 4);
        }

        // Logit effect, density and top contexts equal SaeFeatureViews over a store scanned here on the viewer's corpus.
        using var dir = new TempDirectory();
        var sequences = TokenCorpus.Sample(model, tokenizer.BosId ?? model.Config.BosTokenId ?? 0, NeuronCorpus.Sequences, NeuronCorpus.Length, NeuronCorpus.Seed);
        using var store = SaeFeatureViews.OpenStore(dir.File("sae.sqlite"), sae, NeuronCorpus.Examples);
        SaeFeatureViews.ScanLatents(model, sae, sequences, store);
        var expected = SaeFeatureViews.Build(model, sae, [feature], tokenizer, store).Units[0];
        var unit = page.GetProperty("views").GetProperty("units")[0];
        var output = unit.GetProperty("output").GetProperty("top").EnumerateArray().ToArray();
        Assert.Equal(expected.Output.Top.Select(t => t.Id), output.Select(t => t.GetProperty("id").GetInt32()));
        for (int i = 0; i < output.Length; i++) Assert.Equal(expected.Output.Top[i].Value, output[i].GetProperty("value").GetDouble(), 5);
        Assert.Equal(expected.Density!.Value, unit.GetProperty("density").GetDouble(), 9);
        var contexts = page.GetProperty("contexts").EnumerateArray().Select(c => c.GetProperty("activation").GetDouble()).ToArray();
        Assert.Equal(store.Top(feature).Select(e => e.Activation), contexts);
        Assert.True(contexts.Zip(contexts.Skip(1)).All(p => p.First >= p.Second));

        var (status, body) = await server.Post("features", new { prompt = ViewerServer.IoiPrompt, feature = ViewerServer.SaeFeatures });
        Assert.Equal(400, status);
        Assert.Contains($"feature {ViewerServer.SaeFeatures} does not exist; the SAE at {ViewerServer.SaeHook} has features 0..{ViewerServer.SaeFeatures - 1}", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task WithoutAnSaeTheFeatureEndpointSaysHowToGiveOne()
    {
        using var log = new StringWriter();
        await using var bare = await GlassboxServer.StartAsync(new ServerOptions { ModelPath = Path.Combine(ViewerServer.ModelsDir, "ioi-gpt2-4l"), Port = 0 }, log);
        using var client = new HttpClient { BaseAddress = bare.Address };
        using var response = await client.PostAsJsonAsync("/api/features", new { prompt = ViewerServer.IoiPrompt });
        Assert.Equal(400, (int)response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("no SAE", body.GetProperty("error").GetString());
        Assert.Contains("--sae DIR", body.GetProperty("error").GetString());
        var info = await client.GetFromJsonAsync<JsonElement>("/api/info");
        Assert.False(info.TryGetProperty("sae", out _)); // the page then offers no feature source
    }
}
