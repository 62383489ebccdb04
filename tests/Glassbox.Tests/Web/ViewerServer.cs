using System.Net.Http.Json;
using System.Text.Json;
using Glassbox.Lens;
using Glassbox.Loading;
using Glassbox.Mechanisms;
using Glassbox.Sae;
using Glassbox.Web;

namespace Glassbox.Tests.Web;

/// <summary>One viewer server on the IOI zoo model (a free loopback port), shared by the API, load and browser tests.</summary>
public sealed class ViewerServer : IAsyncLifetime
{
    public const string IoiPrompt = "When Mary and John went to the store , John gave a drink to";
    public const int MaxTokens = 40;
    public const string SaeHook = "blocks.1.hook_resid_post";
    public const int SaeFeatures = 32;

    /// <summary>A smaller probe than the default (4 sequences, 40 IOI prompts) keeps the mechanisms view's detector run to seconds.</summary>
    public static MechanismOptions Mechanisms { get; } = new() { Sequences = 4, IoiPrompts = 40 };

    public static string ModelsDir => Path.Combine(SharedModels.RepoRoot, "models");

    GlassboxServer? server;

    public Uri Address => server!.Address;
    public HttpClient Client { get; private set; } = null!;
    public StringWriter Log { get; } = new();

    /// <summary>One browser for all browser tests (each opens its own page).</summary>
    public Chromium Browser { get; } = new();

    readonly TempDirectory files = new();

    /// <summary>The SAE directory given to the server (SAELens layout), for tests to load and compare against.</summary>
    public string SaeDirectory => files.Combine("sae");

    /// <summary>A small random SAE on layer 1's residual stream: the feature page's numbers are checkable whatever its weights.</summary>
    public static SparseAutoencoder RandomSae(int dModel, string hook = SaeHook)
    {
        var generator = new TorchSharp.torch.Generator(7);
        using var scope = TorchSharp.torch.NewDisposeScope();
        var dec = TorchSharp.torch.nn.functional.normalize(TorchSharp.torch.randn([SaeFeatures, dModel], generator: generator), dim: 1);
        return SparseAutoencoder.Create(new SaeConfig { Architecture = SaeArchitecture.Standard, DIn = dModel, DSae = SaeFeatures, HookName = hook },
            new Dictionary<string, TorchSharp.torch.Tensor>
            {
                ["W_enc"] = dec.t(), ["b_enc"] = TorchSharp.torch.full(SaeFeatures, -0.5f), ["W_dec"] = dec, ["b_dec"] = TorchSharp.torch.zeros(dModel),
            });
    }

    public async Task InitializeAsync()
    {
        // An identity tuned lens (untrained translators) reads exactly as the logit lens: a checkable tuned-lens view.
        string lens = files.File("identity-lens.safetensors");
        using (var model = ModelLoader.Load(Path.Combine(ModelsDir, "ioi-gpt2-4l")))
        using (var identity = TunedLens.ForModel(model))
        using (var sae = RandomSae(model.Config.DModel))
        {
            identity.Save(lens);
            SaeFiles.Save(sae, SaeDirectory);
        }
        server = await GlassboxServer.StartAsync(new ServerOptions
        {
            ModelPath = Path.Combine(ModelsDir, "ioi-gpt2-4l"),
            TunedLensPath = lens,
            SaePath = SaeDirectory,
            Port = 0,
            MaxTokens = MaxTokens,
            Mechanisms = Mechanisms,
        }, Log);
        Client = new HttpClient { BaseAddress = server.Address };
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        Client.Dispose();
        if (server is not null) await server.DisposeAsync();
        files.Dispose();
    }

    /// <summary>A number of a report's JSON, which writes NaN and infinities as strings.</summary>
    public static double Number(JsonElement v) =>
        v.ValueKind == JsonValueKind.String ? double.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : v.GetDouble();

    public async Task<(int Status, JsonElement Body)> Post(string path, object body)
    {
        using var response = await Client.PostAsJsonAsync("/api/" + path, body);
        return ((int)response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    public async Task<JsonElement> PostOk(string path, object body)
    {
        var (status, json) = await Post(path, body);
        Assert.True(status == 200, $"{path}: HTTP {status} {json}");
        return json;
    }
}

[CollectionDefinition(Name)]
public sealed class ViewerCollection : ICollectionFixture<ViewerServer>
{
    public const string Name = "viewer server";
}
