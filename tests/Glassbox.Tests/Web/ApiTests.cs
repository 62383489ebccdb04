using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Glassbox.Loading;
using static TorchSharp.torch;

namespace Glassbox.Tests.Web;

[Collection(ViewerCollection.Name)]
public class ApiTests(ViewerServer server)
{
    [Fact]
    public async Task TokensMatchTheModelAndPredictTheIndirectObject()
    {
        var json = await server.PostOk("tokens", new { prompt = ViewerServer.IoiPrompt, top = 3 });
        var rows = json.GetProperty("tokens").EnumerateArray().ToArray();
        using var model = ModelLoader.Load(Path.Combine(ViewerServer.ModelsDir, "ioi-gpt2-4l"));
        var tokenizer = ModelLoader.FindTokenizer(Path.Combine(ViewerServer.ModelsDir, "ioi-gpt2-4l"), model.Config)!;
        var ids = tokenizer.Encode(ViewerServer.IoiPrompt);
        Assert.Equal(ids, rows.Select(r => r.GetProperty("id").GetInt32()));
        using var probs = model.Forward(tensor(ids.Select(i => (long)i).ToArray()))[0].softmax(-1);

        var last = rows[^1].GetProperty("top").EnumerateArray().ToArray();
        Assert.Equal("Mary", last[0].GetProperty("token").GetString());
        Assert.Equal(probs[^1, last[0].GetProperty("id").GetInt32()].item<float>(), last[0].GetProperty("probability").GetDouble(), 5);
        Assert.True(last[0].GetProperty("probability").GetDouble() >= last[1].GetProperty("probability").GetDouble());
        // Position i reports the probability the model gave its token from position i−1.
        Assert.False(rows[0].TryGetProperty("probability", out _));
        for (int i = 1; i < rows.Length; i++)
            Assert.Equal(probs[i - 1, ids[i]].item<float>(), rows[i].GetProperty("probability").GetDouble(), 5);
    }

    [Fact]
    public async Task LensOutputRowIsTheModelsOwnPrediction()
    {
        var lens = await server.PostOk("lens", new { prompt = ViewerServer.IoiPrompt, method = "logit" });
        var tokens = (await server.PostOk("tokens", new { prompt = ViewerServer.IoiPrompt, top = 1 })).GetProperty("tokens").EnumerateArray().ToArray();
        var map = lens.GetProperty("probabilities");
        var values = map.GetProperty("values").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var top = lens.GetProperty("topTokens").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetString()).ToArray()).ToArray();
        Assert.Equal(5, values.Length); // resid_pre 0..3 and the output
        Assert.Equal("output", map.GetProperty("rowLabels")[4].GetString());
        for (int p = 0; p < tokens.Length; p++)
        {
            var best = tokens[p].GetProperty("top")[0];
            Assert.Equal(best.GetProperty("token").GetString(), top[4][p]);
            Assert.Equal(best.GetProperty("probability").GetDouble(), values[4][p], 5);
        }
        Assert.All(values.SelectMany(r => r), v => Assert.InRange(v, 0, 1));
    }

    [Fact]
    public async Task AnIdentityTunedLensReadsExactlyAsTheLogitLens()
    {
        var info = await server.Client.GetFromJsonAsync<JsonElement>("/api/info");
        Assert.Equal(["logit", "tuned"], info.GetProperty("lensMethods").EnumerateArray().Select(m => m.GetString()!));
        var logit = await server.PostOk("lens", new { prompt = ViewerServer.IoiPrompt, method = "logit" });
        var tuned = await server.PostOk("lens", new { prompt = ViewerServer.IoiPrompt, method = "tuned" });
        Assert.Equal("tuned", tuned.GetProperty("method").GetString());
        Assert.Equal(logit.GetProperty("topTokens").ToString(), tuned.GetProperty("topTokens").ToString());
        var a = logit.GetProperty("probabilities").GetProperty("values").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(v => v.GetDouble()).ToArray();
        var b = tuned.GetProperty("probabilities").GetProperty("values").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(v => v.GetDouble()).ToArray();
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 9);
        // The report's KL-to-final grid: zero on the output row, by definition.
        var kl = logit.GetProperty("heatmaps")[0];
        Assert.StartsWith("logit lens: KL", kl.GetProperty("title").GetString());
        Assert.All(kl.GetProperty("values")[4].EnumerateArray(), v => Assert.Equal(0, v.GetDouble(), 9));
    }

    [Fact]
    public async Task AttentionRowsAreDistributionsAndThumbnailsPoolLongPrompts()
    {
        var layer = await server.PostOk("attention", new { prompt = ViewerServer.IoiPrompt, layer = 2 });
        var patterns = layer.GetProperty("patterns").EnumerateArray().ToArray();
        int n = layer.GetProperty("tokens").GetArrayLength();
        Assert.Equal(4, patterns.Length);
        foreach (var head in patterns)
        {
            var rows = head.GetProperty("values").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
            Assert.Equal(n, rows.Length);
            for (int q = 0; q < n; q++)
            {
                Assert.Equal(1.0, rows[q].Sum(), 3);
                Assert.All(rows[q].Skip(q + 1), v => Assert.Equal(0, v)); // causal
            }
        }

        // A 24-token prompt pooled to 8×8 thumbnails: each cell is the maximum of a 3×3 block of the full pattern.
        string longPrompt = string.Join(" , ", Enumerable.Repeat("Mary and John went to the store", 3));
        var overview = await server.PostOk("attention", new { prompt = longPrompt, thumbnail = 8 });
        Assert.Equal(24, overview.GetProperty("tokens").GetArrayLength());
        Assert.Equal(16, overview.GetProperty("patterns").GetArrayLength());
        var thumb = overview.GetProperty("patterns")[1]; // L0H1
        Assert.Equal(8, thumb.GetProperty("size").GetInt32());
        var full = (await server.PostOk("attention", new { prompt = longPrompt, layer = 0 })).GetProperty("patterns")[1].GetProperty("values");
        for (int r = 0; r < 8; r++)
            for (int c = 0; c <= r; c++)
            {
                double block = 0;
                for (int q = 3 * r; q < 3 * r + 3; q++)
                    for (int k = 3 * c; k < 3 * c + 3; k++) block = Math.Max(block, full[q][k].GetDouble());
                Assert.Equal(block, thumb.GetProperty("values")[r][c].GetDouble(), 4);
            }
        var scores = overview.GetProperty("scores").EnumerateArray().Select(s => s.GetProperty("title").GetString()).ToArray();
        Assert.Contains("attention to the previous token", scores);
    }

    [Theory]
    [InlineData("tokens", "{\"prompt\": \"\"}", 400, "prompt is empty")]
    [InlineData("tokens", "{\"prompt\": \"   \"}", 400, "prompt is empty")]
    [InlineData("lens", "{\"prompt\": \"Mary\", \"method\": \"tunned\"}", 400, "Unknown lens method 'tunned'; available: logit, tuned")]
    [InlineData("attention", "{\"prompt\": \"Mary\", \"layer\": 9}", 400, "layer 9 does not exist")]
    [InlineData("tokens", "{\"prompt\": \"Mary\", \"top\": 500}", 400, "top must be between 1 and 20")]
    [InlineData("tokens", "{\"prompt\": ", 400, "not valid JSON")]
    [InlineData("models/load", "{\"path\": \"/etc\"}", 403, "outside the model roots")]
    [InlineData("models/load", "{\"path\": \"../../../etc/passwd\"}", 403, "outside the model roots")]
    [InlineData("models/load", "{\"path\": \"no-such-model\"}", 404, "No model at")]
    [InlineData("atention", "{\"prompt\": \"Mary\"}", 404, "did you mean 'attention'?")]
    [InlineData("flow/heads", "{\"prompt\": \"Mary and John\", \"node\": \"X0_1\"}", 400, "node 'X0_1' is the embedding; no attention head writes into it.")]
    [InlineData("flow/heads", "{\"prompt\": \"Mary and John\", \"node\": \"M1_7\"}", 400, "outside this prompt's graph")]
    [InlineData("flow/heads", "{\"prompt\": \"Mary and John\", \"node\": \"M1_1\", \"top\": 0}", 400, "top must be between 1 and 20")]
    [InlineData("mechanisms", "{}", 405, "/api/mechanisms takes GET")]
    [InlineData("mechanism", "{}", 404, "did you mean 'mechanisms'?")]
    public async Task BadRequestsGetA4xxJsonError(string path, string body, int status, string message)
    {
        using var response = await server.Client.PostAsync("/api/" + path, new StringContent(body, Encoding.UTF8, "application/json"));
        await AssertError(response, status, message);
    }

    [Fact]
    public async Task OverlongPromptsAndOversizedBodiesAreRefused()
    {
        string prompt = string.Join(" ", Enumerable.Repeat("Mary", ViewerServer.MaxTokens + 5));
        using (var response = await server.Client.PostAsJsonAsync("/api/tokens", new { prompt }))
            await AssertError(response, 400, $"tokens; this server accepts at most {ViewerServer.MaxTokens}.");
        using (var response = await server.Client.PostAsJsonAsync("/api/tokens", new { prompt = new string('a', 100_000) }))
            await AssertError(response, 413, "Request body too large");
        using (var response = await server.Client.PostAsync("/api/tokens", new StringContent("prompt=Mary", Encoding.UTF8, "application/x-www-form-urlencoded")))
            await AssertError(response, 415, "JSON");
        using (var response = await server.Client.GetAsync("/api/tokens"))
            await AssertError(response, 405, "takes POST");
    }

    [Fact]
    public async Task OnlyLoopbackHostNamesAreServed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/info");
        request.Headers.Host = "attacker.example";
        using var response = await server.Client.SendAsync(request);
        await AssertError(response, 400, "answers only to localhost");
    }

    [Fact]
    public async Task ModelPickerListsTheZooAndSwitchesModels()
    {
        var models = await server.Client.GetFromJsonAsync<JsonElement>("/api/models");
        var names = models.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["attn-only-2l", "ioi-gpt2-4l", "ioi-llama-4l"], names);
        try
        {
            var info = await server.PostOk("models/load", new { path = "attn-only-2l" });
            Assert.Equal(2, info.GetProperty("model").GetProperty("layers").GetInt32());
            var lens = await server.PostOk("lens", new { prompt = "When Mary and John" });
            Assert.Equal(3, lens.GetProperty("probabilities").GetProperty("values").GetArrayLength());
            // The mechanisms report belongs to the model: the new one gets its own (the card's induction heads).
            var mechanisms = await server.Client.GetFromJsonAsync<JsonElement>("/api/mechanisms");
            Assert.Equal("attn-only-2l", mechanisms.GetProperty("model").GetString());
            Assert.Equal(["L1H0", "L1H1", "L1H2", "L1H3"], mechanisms.GetProperty("findings").EnumerateArray()
                .Where(f => f.GetProperty("label").GetString() == "induction").Select(f => f.GetProperty("name").GetString()!));
        }
        finally
        {
            await server.PostOk("models/load", new { path = Path.Combine(ViewerServer.ModelsDir, "ioi-gpt2-4l") });
        }
    }

    static async Task AssertError(HttpResponseMessage response, int status, string message)
    {
        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        var error = json.GetProperty("error").GetString()!;
        Assert.Contains(message, error);
        Assert.DoesNotContain("   at ", error); // never a stack trace
    }
}
