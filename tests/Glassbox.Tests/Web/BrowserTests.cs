using System.Net.Http.Json;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;

namespace Glassbox.Tests.Web;

/// <summary>Debian's chromium, headless, with a fresh profile; launched on first use so skipped tests never start it.</summary>
public sealed class Chromium : IAsyncDisposable
{
    static readonly string[] Flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    readonly TempDirectory profile = new();
    IPlaywright? playwright;
    IBrowserContext? context;

    public async Task<IPage> NewPage(Uri address)
    {
        if (context is null)
        {
            if (!File.Exists(BrowserFactAttribute.ChromiumPath))
                throw new InvalidOperationException($"CI needs chromium at {BrowserFactAttribute.ChromiumPath}: .ci/run installs it with apt-get install chromium.");
            playwright = await Playwright.CreateAsync();
            context = await playwright.Chromium.LaunchPersistentContextAsync(profile.Path, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = BrowserFactAttribute.ChromiumPath,
                Headless = true,
                Args = Flags,
                ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            });
        }
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        await page.GotoAsync(address.ToString());
        await page.WaitForSelectorAsync("body[data-ready=true]");
        return page;
    }

    /// <summary>A new page on the viewer with one view's tab opened and rendered.</summary>
    public async Task<IPage> OpenView(Uri address, string view)
    {
        var page = await NewPage(address);
        await page.ClickAsync($"nav button[data-view={view}]");
        await page.WaitForSelectorAsync($"#view-{view}[data-ready=true]");
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        if (context is not null) await context.CloseAsync();
        playwright?.Dispose();
        profile.Dispose();
    }
}

/// <summary>
/// The viewer in a real browser against the IOI zoo model: each view shows the tokens and numbers the API returns,
/// and hover/click interactions change what is shown. Screenshots go to docs/img/ with GLASSBOX_UPDATE_SCREENSHOTS=1.
/// </summary>
[Collection(ViewerCollection.Name)]
public class BrowserTests(ViewerServer server)
{
    Chromium chromium => server.Browser;

    static string ScreenshotDir { get; } = Environment.GetEnvironmentVariable("GLASSBOX_UPDATE_SCREENSHOTS") == "1"
        ? Path.Combine(SharedModels.RepoRoot, "docs", "img")
        : Directory.CreateTempSubdirectory("glassbox-screens-").FullName;

    static async Task Screenshot(IPage page, string name)
    {
        var path = Path.Combine(ScreenshotDir, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        Assert.True(new FileInfo(path).Length > 10_000, $"{path} is suspiciously small");
    }

    static string Percent(double p) => (100 * p).ToString("F1", CultureInfo.InvariantCulture) + "%";

    [BrowserFact]
    public async Task TokensViewShowsTheApisTokensAndPredictions()
    {
        var api = (await server.PostOk("tokens", new { prompt = ViewerServer.IoiPrompt, top = 10 })).GetProperty("tokens");
        var page = await chromium.NewPage(server.Address);
        await page.WaitForSelectorAsync("#view-tokens[data-ready=true]");

        var ids = await page.Locator("#view-tokens .tok").EvaluateAllAsync<int[]>("chips => chips.map(c => Number(c.dataset.id))");
        Assert.Equal(api.EnumerateArray().Select(t => t.GetProperty("id").GetInt32()), ids);
        // The last token is selected: its top prediction is the indirect object, with the API's probability.
        var last = api[api.GetArrayLength() - 1].GetProperty("top")[0];
        var firstBar = page.Locator("#view-tokens .bar-row").First;
        Assert.Equal("Mary", await firstBar.GetAttributeAsync("data-label"));
        Assert.Equal(Percent(last.GetProperty("probability").GetDouble()), await firstBar.Locator(".bar-value").TextContentAsync());

        // Hovering another token shows its predictions instead.
        await page.Locator("#view-tokens .tok[data-position='2']").HoverAsync();
        var second = api[2].GetProperty("top")[0];
        Assert.Equal(second.GetProperty("token").GetString(), await page.Locator("#view-tokens .bar-row").First.GetAttributeAsync("data-label"));
        Assert.Contains("position 2", await page.Locator("#view-tokens .bars h3").TextContentAsync());
        await page.Locator("#view-tokens .tok").Last.ClickAsync();
        await Screenshot(page, "tokens.png");
    }

    [BrowserFact]
    public async Task AttentionViewShowsEveryHeadAndTheTokenHoverWeights()
    {
        var layer1 = await server.PostOk("attention", new { prompt = ViewerServer.IoiPrompt, layer = 1 });
        int n = layer1.GetProperty("tokens").GetArrayLength();
        var page = await chromium.OpenView(server.Address, "attention");
        Assert.Equal(16, await page.Locator("#view-attention .head-cell[data-head]").CountAsync());

        // Clicking L1H3 shows its full pattern, cell for cell the API's.
        await page.ClickAsync("#view-attention .head-cell[data-layer='1'][data-head='3']");
        await page.WaitForSelectorAsync(".head-detail .heatmap[data-title='L1H3 attention pattern']");
        var cells = await page.Locator(".head-detail td").EvaluateAllAsync<double[]>("tds => tds.map(td => Number(td.dataset.value))");
        var expected = layer1.GetProperty("patterns")[3].GetProperty("values").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();
        Assert.Equal(n * n, cells.Length);
        Assert.Equal(expected, cells);

        // Token view: layer 1, head 3; hovering the last token shades each earlier token by A[q, k].
        await page.SelectOptionAsync("#attn-layer", "1");
        await page.ClickAsync(".head-buttons button[data-head='3']");
        await page.Locator(".attention-tokens .tok").Nth(n - 1).HoverAsync();
        var weights = await page.Locator(".attention-tokens .tok").EvaluateAllAsync<string[]>("chips => chips.map(c => c.dataset.weight)");
        var row = layer1.GetProperty("patterns")[3].GetProperty("values")[n - 1];
        for (int k = 0; k < n - 1; k++) Assert.Equal(row[k].GetDouble().ToString("F4", CultureInfo.InvariantCulture), weights[k]);
        // Hovering an earlier token moves the query: later tokens get no attention.
        await page.Locator(".attention-tokens .tok").Nth(3).HoverAsync();
        weights = await page.Locator(".attention-tokens .tok").EvaluateAllAsync<string[]>("chips => chips.map(c => c.dataset.weight)");
        Assert.All(weights.Skip(4), w => Assert.Equal("0.0000", w));
        Assert.Equal(layer1.GetProperty("patterns")[3].GetProperty("values")[3][0].GetDouble().ToString("F4", CultureInfo.InvariantCulture), weights[0]);
        await Screenshot(page, "attention.png");
    }

    [BrowserFact]
    public async Task LensViewShowsTheTopTokenGridAndTooltips()
    {
        var lens = await server.PostOk("lens", new { prompt = ViewerServer.IoiPrompt });
        var page = await chromium.OpenView(server.Address, "lens");
        var grid = page.Locator("#view-lens .heatmap").First;
        var texts = await grid.Locator("td").AllTextContentsAsync();
        var expected = lens.GetProperty("topTokens").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(t => t.GetString()!)).ToArray();
        Assert.Equal(expected, texts);
        var values = await grid.Locator("td").EvaluateAllAsync<double[]>("tds => tds.map(td => Number(td.dataset.value))");
        Assert.Equal(lens.GetProperty("probabilities").GetProperty("values").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())), values);
        Assert.Equal(3, await page.Locator("#view-lens .heatmap").CountAsync()); // with the KL and entropy grids

        int n = lens.GetProperty("tokens").GetArrayLength();
        await grid.Locator($"td[data-row='4'][data-col='{n - 1}']").HoverAsync();
        var tip = await page.Locator(".tooltip").TextContentAsync();
        Assert.Contains("output", tip);
        Assert.Contains("Mary", tip);
        await Screenshot(page, "lens.png");

        // The method picker offers the tuned lens the server was started with (an identity lens: the same grid).
        await page.SelectOptionAsync("#lens-method", "tuned");
        await page.WaitForSelectorAsync("#view-lens .heatmap[data-title^='tuned lens']");
        Assert.Equal(expected, await page.Locator("#view-lens .heatmap").First.Locator("td").AllTextContentsAsync());
    }

    [BrowserFact]
    public async Task AttributionViewShowsTheChosenMethodsScores()
    {
        var api = await server.PostOk("attribution", new { prompt = ViewerServer.IoiPrompt, method = "saliency" });
        var page = await chromium.OpenView(server.Address, "attribution");
        await page.SelectOptionAsync("#attribution-method", "saliency");
        await page.WaitForSelectorAsync("#view-attribution .heatmap[data-title='saliency (logit)']");
        var values = await page.Locator("#view-attribution td").EvaluateAllAsync<double[]>("tds => tds.map(td => Number(td.dataset.value))");
        Assert.Equal(api.GetProperty("heatmaps")[0].GetProperty("values")[0].EnumerateArray().Select(v => v.GetDouble()), values);
        Assert.Contains("target “Mary”", await page.Locator("#view-attribution .hint").First.TextContentAsync());
        await Screenshot(page, "attribution.png");
    }

    [BrowserFact]
    public async Task FlowViewDrawsTheGraphAndProjectsAClickedNode()
    {
        var flow = await server.PostOk("flow", new { prompt = ViewerServer.IoiPrompt });
        var page = await chromium.OpenView(server.Address, "flow");
        Assert.Equal(flow.GetProperty("nodes").GetArrayLength(), await page.Locator("#view-flow .graph-node").CountAsync());
        Assert.Equal(flow.GetProperty("edges").EnumerateArray().Count(e => e.GetProperty("kind").GetString() != "head"),
            await page.Locator("#view-flow line").CountAsync());

        // Clicking a mid-layer node shows its vocabulary projection, as the API computes it, and its incoming edges.
        var node = flow.GetProperty("nodes").EnumerateArray().First(x => x.GetProperty("mid").GetBoolean()).GetProperty("id").GetString()!;
        var projection = await server.PostOk("flow/node", new { prompt = ViewerServer.IoiPrompt, node, top = 10 });
        await page.ClickAsync($"#view-flow .graph-node[data-id='{node}']");
        await page.WaitForSelectorAsync($"#view-flow .bars h3:has-text('vocabulary projection')");
        await page.WaitForFunctionAsync($"document.querySelector('#view-flow .graph-node.selected')?.dataset.id === '{node}'");
        var first = page.Locator("#view-flow .bars").First.Locator(".bar-row").First;
        // Another node's projection may share the top token, so wait for the value too: the panel renders asynchronously.
        string expected = Percent(projection.GetProperty("top")[0].GetProperty("probability").GetDouble());
        await page.WaitForFunctionAsync("([label, value]) => { const row = document.querySelector('#view-flow .bars .bar-row'); " +
            "return row?.dataset.label === label && row.querySelector('.bar-value')?.textContent === value; }",
            new object[] { projection.GetProperty("top")[0].GetProperty("token").GetString()!, expected }, new() { Timeout = 10000 });
        Assert.Equal(expected, await first.Locator(".bar-value").TextContentAsync());
        Assert.Equal(flow.GetProperty("edges").EnumerateArray().Count(e => e.GetProperty("to").GetString() == node),
            await page.Locator("#view-flow .bars").Nth(1).Locator(".bar-row").CountAsync());

        // The end position after layer 2's attention: each head's write in logits, the largest write first (L2H0, which
        // writes against the subject John), and another head on picking it.
        string end = $"M2_{flow.GetProperty("tokens").GetArrayLength() - 1}";
        var writes = (await server.PostOk("flow/heads", new { prompt = ViewerServer.IoiPrompt, node = end, top = 10 })).GetProperty("heads");
        await page.ClickAsync($"#view-flow .graph-node[data-id='{end}']");
        await page.WaitForFunctionAsync("p => { const t = document.querySelector('#view-flow .head-writes h3')?.textContent ?? ''; "
            + "return t.startsWith('L2H') && t.includes(' at position ' + p + ':'); }", flow.GetProperty("tokens").GetArrayLength() - 1);
        var largest = writes.EnumerateArray().MaxBy(h => h.GetProperty("norm").GetDouble()).GetProperty("head").GetInt32();
        Assert.Equal(largest.ToString(CultureInfo.InvariantCulture), await page.InputValueAsync("#flow-head"));
        await AssertHeadWrites(page, writes[largest]);
        Assert.Contains("John", await page.Locator("#view-flow .head-writes .bar-row").EvaluateAllAsync<string[]>("rows => rows.slice(10).map(r => r.dataset.label)"));
        await Screenshot(page, "flow.png");
        await page.SelectOptionAsync("#flow-head", "1");
        await AssertHeadWrites(page, writes[1]);
    }

    /// <summary>The head-writes bars are the API's promoted tokens, then its suppressed ones from the least to the most suppressed.</summary>
    static async Task AssertHeadWrites(IPage page, JsonElement head)
    {
        var expected = head.GetProperty("promoted").EnumerateArray().Concat(head.GetProperty("suppressed").EnumerateArray().Reverse()).ToArray();
        var rows = await page.Locator("#view-flow .head-writes .bar-row").EvaluateAllAsync<string[][]>("rows => rows.map(r => [r.dataset.label, r.dataset.value])");
        Assert.Equal(expected.Select(t => t.GetProperty("token").GetString()), rows.Select(r => r[0]));
        Assert.Equal(expected.Select(t => t.GetProperty("value").GetDouble()), rows.Select(r => double.Parse(r[1], CultureInfo.InvariantCulture)));
    }

    [BrowserFact]
    public async Task MechanismsViewShowsTheDetectorsHeatmapsAndDetectedHeads()
    {
        var api = await server.Client.GetFromJsonAsync<JsonElement>("/api/mechanisms");
        var page = await chromium.OpenView(server.Address, "mechanisms");
        var maps = api.GetProperty("heatmaps").EnumerateArray().ToArray();
        Assert.Equal(maps.Length, await page.Locator("#view-mechanisms .heatmap").CountAsync());
        for (int i = 0; i < maps.Length; i++)
        {
            var grid = page.Locator("#view-mechanisms .heatmap").Nth(i);
            Assert.Equal(maps[i].GetProperty("title").GetString(), await grid.GetAttributeAsync("data-title"));
            var cells = await grid.Locator("td").EvaluateAllAsync<string[]>("tds => tds.map(td => td.dataset.value)");
            Assert.Equal(maps[i].GetProperty("values").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(ViewerServer.Number)), cells.Select(c => double.Parse(c, CultureInfo.InvariantCulture)));
        }
        // Each mechanism's table lists its heads as the API flags them.
        foreach (var label in api.GetProperty("findings").EnumerateArray().GroupBy(f => f.GetProperty("label").GetString()!))
        {
            var heads = await page.Locator($"#view-mechanisms table.findings[data-label='{label.Key}'] tr[data-head]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.head)");
            Assert.Equal(label.Select(f => f.GetProperty("name").GetString()), heads);
        }
        // Clicking a cell lists that head's score in every grid.
        await page.Locator("#view-mechanisms .heatmap").First.Locator("td[data-row='2'][data-col='0']").ClickAsync();
        Assert.Equal("L2H0", await page.Locator("#view-mechanisms .head-scores h3").TextContentAsync());
        Assert.Equal(maps.Length, await page.Locator("#view-mechanisms .head-scores tr").CountAsync());
        await Screenshot(page, "mechanisms.png");
    }


    [BrowserFact]
    public async Task PatchingViewShowsDlaBarsAndThePatchingGrid()
    {
        var dla = await server.PostOk("dla", new { prompt = ViewerServer.IoiPrompt, answer = "Mary", wrong = "John" });
        var page = await chromium.OpenView(server.Address, "patching");
        var largest = dla.GetProperty("parts").EnumerateArray().MaxBy(p => Math.Abs(p.GetProperty("value").GetDouble()));
        var firstBar = page.Locator("#view-patching .dla .bar-row").First;
        Assert.Equal(largest.GetProperty("component").GetString(), await firstBar.GetAttributeAsync("data-label"));
        Assert.Equal(16, await page.Locator("#view-patching .dla .bar-row").CountAsync());
        // Default pair: the swapped name at position 10; patching layer 0's residual there restores the clean run.
        var cell = page.Locator("#view-patching .patching .heatmap").First.Locator("td[data-row='0'][data-col='10']");
        Assert.Equal(1.0, double.Parse((await cell.GetAttributeAsync("data-value"))!, CultureInfo.InvariantCulture), 4);
        await Screenshot(page, "patching.png");
    }

    [BrowserFact]
    public async Task NeuronPageSwitchesToAClickedNeuron()
    {
        var page = await chromium.OpenView(server.Address, "neurons");
        var second = await page.Locator("#view-neurons .top-neurons button").Nth(1).GetAttributeAsync("data-neuron");
        await page.Locator("#view-neurons .top-neurons button").Nth(1).ClickAsync();
        await page.WaitForSelectorAsync($"#view-neurons .top-neurons button.active[data-neuron='{second}']");
        var api = await server.PostOk("neurons", new { prompt = ViewerServer.IoiPrompt, layer = 0, neuron = int.Parse(second!) });
        Assert.StartsWith($"L0 N{second}", await page.Locator("#view-neurons h2").TextContentAsync());
        var shown = await page.Locator("#view-neurons .neuron-tokens .tok").EvaluateAllAsync<double[]>("chips => chips.map(c => Number(c.dataset.activation))");
        Assert.Equal(api.GetProperty("activations").EnumerateArray().Select(a => a.GetDouble()), shown);
        Assert.Equal(10, await page.Locator("#view-neurons .examples tr").CountAsync());
        await Screenshot(page, "neurons.png");
    }

    [BrowserFact]
    public async Task TheSourceSwitchShowsTheSaesFeaturePage()
    {
        var page = await chromium.OpenView(server.Address, "neurons");
        await page.WaitForSelectorAsync("#view-neurons h2");
        await page.SelectOptionAsync("#neuron-source", "sae");
        await page.WaitForSelectorAsync("#view-neurons h2:has-text('SAE F')");
        var api = await server.PostOk("features", new { prompt = ViewerServer.IoiPrompt });
        int feature = api.GetProperty("neuron").GetInt32();
        Assert.StartsWith($"SAE F{feature} · {ViewerServer.SaeHook}", await page.Locator("#view-neurons h2").TextContentAsync());
        Assert.True(await page.Locator("#neuron-layer").IsHiddenAsync());
        var shown = await page.Locator("#view-neurons .neuron-tokens .tok").EvaluateAllAsync<double[]>("chips => chips.map(c => Number(c.dataset.activation))");
        Assert.Equal(api.GetProperty("activations").EnumerateArray().Select(a => a.GetDouble()), shown);
        var promoted = api.GetProperty("views").GetProperty("units")[0].GetProperty("output").GetProperty("top")[0].GetProperty("token").GetString();
        Assert.Equal(promoted, await page.Locator("#view-neurons .bar-row").First.GetAttributeAsync("data-label"));
        Assert.Equal(api.GetProperty("contexts").GetArrayLength(), await page.Locator("#view-neurons .examples tr").CountAsync());
        Assert.Equal(ViewerServer.SaeFeatures - 1, int.Parse((await page.Locator("#neuron-index").GetAttributeAsync("max"))!));
        await Screenshot(page, "features.png");
    }

    [BrowserFact]
    public async Task AnEmptyPromptShowsTheApisErrorMessage()
    {
        var page = await chromium.NewPage(server.Address);
        await page.FillAsync("#prompt", "");
        await page.ClickAsync("#run");
        await page.WaitForSelectorAsync("#error:not([hidden])");
        Assert.Equal("prompt is empty.", await page.Locator("#error").TextContentAsync());
    }
}
