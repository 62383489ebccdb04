using System.Net;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using Glassbox.Attribution;
using Glassbox.Loading;
using Glassbox.Models;
using Glassbox.Reporting;
using Glassbox.Sae;
using Glassbox.Tokenization;
using Glassbox.Web.Views;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Glassbox.Web;

/// <summary>
/// The local viewer: a JSON API over one loaded model (docs/web.md) and the static front end in wwwroot.
/// Loopback by default; model paths limited to the roots given at start; bounded requests; errors are
/// <c>{"error": message}</c> with a 4xx status, and unexpected failures never show a stack trace to the client.
/// </summary>
public sealed class GlassboxServer : IAsyncDisposable
{
    // Served as application/json only, so HTML-sensitive characters need no escaping (token text stays readable).
    static readonly JsonSerializerOptions Json = new(ReportJson.Options) { WriteIndented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The API's endpoints, for the "did you mean" of an unknown one.</summary>
    static readonly string[] Endpoints = ["info", "models", "models/load", "tokens", "attention", "lens", "attribution", "flow", "flow/node", "flow/heads", "mechanisms", "neurons", "features", "dla", "patching"];

    readonly WebApplication app;
    readonly ModelSession session;

    GlassboxServer(WebApplication app, ModelSession session, Uri address)
    {
        this.app = app;
        this.session = session;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<GlassboxServer> StartAsync(ServerOptions options, TextWriter log, CancellationToken cancel = default)
    {
        var address = ParseHost(options.Host);
        var guard = new RequestGuard(address, options.Token);
        var modelPath = ModelLoader.ResolvePath(options.ModelPath); // a hub id becomes its cached snapshot
        var roots = new ModelRoots(options.Roots.Count > 0 ? options.Roots
            : [Path.GetDirectoryName(Path.GetFullPath(modelPath.TrimEnd('/', '\\')))!]);
        var session = new ModelSession(options, modelPath, options.TokenizerPath);
        try
        {
            return await Start(options, address, guard, roots, session, log, cancel);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    static async Task<GlassboxServer> Start(ServerOptions options, IPAddress address, RequestGuard guard, ModelRoots roots, ModelSession session, TextWriter log, CancellationToken cancel)
    {

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production, Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            k.Listen(address, options.Port);
        });
        var app = builder.Build();
        app.Use(ErrorsAsJson(log));
        app.Use(guard.Check);
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            if (http.Request.Path.StartsWithSegments("/api"))
                await WriteError(http, http.Response.StatusCode, $"{http.Request.Method} {http.Request.Path} is not allowed here (HTTP {http.Response.StatusCode}).");
        });
        app.Use(async (context, next) =>
        {
            context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            await next(context);
        });
        var files = new EmbeddedFileProvider(Assembly.GetExecutingAssembly(), "Glassbox.Web.wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        MapApi(app, session, roots);

        await app.StartAsync(cancel);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        if (!IPAddress.IsLoopback(address))
            log.WriteLine($"warning: serving on {address}, reachable from other machines (every request must carry the token). Use --host 127.0.0.1 unless you mean it.");
        log.WriteLine($"Glassbox viewer on {bound}  (model {session.Path}; roots {string.Join(", ", roots.Directories)})");
        return new GlassboxServer(app, session, new Uri(bound));
    }

    public Task WaitForShutdownAsync(CancellationToken cancel = default) => app.WaitForShutdownAsync(cancel);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        session.Dispose();
    }

    static void MapApi(WebApplication app, ModelSession session, ModelRoots roots)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/info", () => Ok(Info(session)));
        api.MapGet("/models", () => Ok(new
        {
            current = session.Path,
            roots = roots.Directories,
            models = roots.FindModels().Select(p => new { name = Path.GetFileName(p), path = p }),
        }));
        api.MapPost("/models/load", async (HttpContext http) =>
        {
            var request = await Read<LoadRequest>(http);
            await session.Switch(roots.Check(request.Path ?? ""), http.RequestAborted);
            return Ok(Info(session));
        });
        api.MapGet("/mechanisms", async (CancellationToken cancel) =>
            Ok(await session.Run((_, _) => MechanismsView.Compute(session.Mechanisms), cancel)));
        // Every view: read the JSON body, then run on the model (alone, in a dispose scope) with the prompt's token ids.
        void View<T>(string route, Func<T, HookedTransformer, ITokenizer, long[], object> compute) where T : class, IPromptRequest =>
            api.MapPost(route, async (HttpContext http) =>
            {
                var request = await Read<T>(http);
                return Ok(await session.Run((model, tokenizer) =>
                    compute(request, model, tokenizer, ModelSession.Encode(tokenizer, request.Prompt, session.MaxTokens)), http.RequestAborted));
            });
        View<TokensRequest>("/tokens", (r, model, tokenizer, ids) =>
            TokensView.Compute(model, tokenizer, ids, Limits.Check("top", r.Top, 5, 1, 20)));
        View<AttentionRequest>("/attention", (r, model, tokenizer, ids) =>
            AttentionView.Compute(model, tokenizer, ids, r.Layer, Limits.Check("thumbnail", r.Thumbnail, AttentionView.DefaultThumbnail, 4, 128)));
        View<LensRequest>("/lens", (r, model, tokenizer, ids) => LensView.Compute(model, tokenizer, ids, r.Method, session.TunedLens));
        View<AttributionRequest>("/attribution", (r, model, tokenizer, ids) => AttributionView.Compute(model, tokenizer, ids, r.Method, r.Target, r.Words ?? false));
        View<FlowRequest>("/flow", (r, model, tokenizer, ids) => FlowView.Compute(model, tokenizer, ids, r.Threshold));
        View<FlowNodeRequest>("/flow/node", (r, model, tokenizer, ids) =>
            FlowView.Project(model, tokenizer, ids, r.Node, Limits.Check("top", r.Top, 10, 1, 20)));
        View<FlowNodeRequest>("/flow/heads", (r, model, tokenizer, ids) =>
            FlowView.HeadWrites(model, tokenizer, ids, r.Node, Limits.Check("top", r.Top, 10, 1, 20)));
        View<NeuronRequest>("/neurons", (r, model, tokenizer, ids) => NeuronView.Compute(model, tokenizer, session.Neurons, ids, r.Layer ?? 0, r.Neuron));
        View<FeatureRequest>("/features", (r, model, tokenizer, ids) => NeuronView.ComputeFeature(model, tokenizer, session.Neurons, session.Sae, ids, r.Feature));
        View<DlaRequest>("/dla", (r, model, tokenizer, ids) => PatchingView.Dla(model, tokenizer, ids, r.Answer, r.Wrong));
        View<PatchingRequest>("/patching", (r, model, tokenizer, _) =>
        {
            ModelSession.Encode(tokenizer, r.Corrupted, session.MaxTokens);
            return PatchingView.Patch(model, tokenizer, r.Prompt!, r.Corrupted, r.Answer, r.Wrong, r.Site);
        });
        api.Map("/{**rest}", (string? rest) =>
        {
            rest ??= "";
            if (Endpoints.Contains(rest)) throw new ApiException(405, $"/api/{rest} takes {(rest is "info" or "models" or "mechanisms" ? "GET" : "POST with a JSON body")}.");
            throw new ApiException(404, $"Unknown API endpoint '/api/{rest}': {NameSuggestions.Describe(rest, Endpoints)}");
        });
    }

    static object Info(ModelSession session) => new
    {
        model = new
        {
            path = session.Path,
            name = Path.GetFileName(session.Path.TrimEnd('/', '\\')),
            architecture = session.Config.Architecture,
            layers = session.Config.NLayers,
            heads = session.Config.NHeads,
            dModel = session.Config.DModel,
            dMlp = session.Config.AttnOnly ? 0 : session.Config.DMlp,
            vocabSize = session.Config.VocabSize,
            contextLength = session.Config.ContextLength,
        },
        maxTokens = session.MaxTokens,
        lensMethods = LensView.Methods(session.TunedLens),
        sae = session.Sae is { } sae ? new { hookName = sae.Config.HookName, architecture = SaeConfig.Name(sae.Config.Architecture), features = sae.Config.DSae } : null,
        patchSites = PatchingView.Sites,
        attributionMethods = new[] { AttributionView.DefaultMethod }.Concat(AttributionMethods.Names.Where(n => n != AttributionView.DefaultMethod)),
    };

    static IResult Ok(object value) => Results.Json(value, Json);

    static async Task<T> Read<T>(HttpContext http) where T : class
    {
        if (!http.Request.HasJsonContentType())
            throw new ApiException(415, "Send the request body as JSON (Content-Type: application/json).");
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(http.Request.Body, Json, http.RequestAborted)
                ?? throw new ApiException(400, "The request body is empty.");
        }
        catch (JsonException e)
        {
            throw new ApiException(400, $"The request body is not valid JSON: {e.Message}");
        }
    }

    static Func<HttpContext, RequestDelegate, Task> ErrorsAsJson(TextWriter log) => async (http, next) =>
    {
        try
        {
            await next(http);
        }
        catch (Exception e) when (!http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested)
        {
            var (status, message) = e switch
            {
                ApiException a => (a.Status, a.Message),
                GlassboxException g => (400, g.Message),
                BadHttpRequestException b => (b.StatusCode, b.Message),
                _ => (500, "Internal error; the server's log has the details."),
            };
            if (status >= 500) lock (log) log.WriteLine($"error: {http.Request.Method} {http.Request.Path}: {e}");
            await WriteError(http, status, message);
        }
    };

    static async Task WriteError(HttpContext http, int status, string message)
    {
        http.Response.Clear();
        http.Response.StatusCode = status;
        await http.Response.WriteAsJsonAsync(new { error = message }, Json);
    }

    static IPAddress ParseHost(string host) =>
        host == "localhost" ? IPAddress.Loopback
        : IPAddress.TryParse(host, out var ip) ? ip
        : throw new GlassboxException($"--host takes an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface), got '{host}'.");
}
