using System.Net.Http.Json;
using System.Text.Json;
using Glassbox.Lens;
using Glassbox.Loading;
using Glassbox.Web;

namespace Glassbox.Tests.Web;

/// <summary>One viewer server on the IOI zoo model (a free loopback port), shared by the API, load and browser tests.</summary>
public sealed class ViewerServer : IAsyncLifetime
{
    public const string IoiPrompt = "When Mary and John went to the store , John gave a drink to";
    public const int MaxTokens = 40;

    public static string ModelsDir => Path.Combine(SharedModels.RepoRoot, "models");

    GlassboxServer? server;

    public Uri Address => server!.Address;
    public HttpClient Client { get; private set; } = null!;
    public StringWriter Log { get; } = new();

    /// <summary>One browser for all browser tests (each opens its own page).</summary>
    public Chromium Browser { get; } = new();

    readonly TempDirectory files = new();

    public async Task InitializeAsync()
    {
        // An identity tuned lens (untrained translators) reads exactly as the logit lens: a checkable tuned-lens view.
        string lens = files.File("identity-lens.safetensors");
        using (var model = ModelLoader.Load(Path.Combine(ModelsDir, "ioi-gpt2-4l")))
        using (var identity = TunedLens.ForModel(model))
            identity.Save(lens);
        server = await GlassboxServer.StartAsync(new ServerOptions
        {
            ModelPath = Path.Combine(ModelsDir, "ioi-gpt2-4l"),
            TunedLensPath = lens,
            Port = 0,
            MaxTokens = MaxTokens,
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
