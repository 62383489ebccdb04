using System.Net;
using System.Text.Json;
using Glassbox.Tests.Cli;
using Glassbox.Web;

namespace Glassbox.Tests.Web;

/// <summary>Only the user gets in: other sites' pages are refused, and off loopback every request needs the token.</summary>
[Collection(ViewerCollection.Name)]
public class RequestGuardTests(ViewerServer server)
{
    static async Task<(HttpStatusCode Status, string Error)> Send(HttpClient client, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        using var response = await client.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.StatusCode == HttpStatusCode.OK ? "" : JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!);
    }

    [Fact]
    public async Task PagesOfOtherSitesAreRefusedAndTheViewersOwnAreServed()
    {
        string own = $"http://{server.Address.Authority}";
        Assert.Equal(HttpStatusCode.OK, (await Send(server.Client, "/api/info", ("Origin", own), ("Sec-Fetch-Site", "same-origin"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(server.Client, "/api/info", ("Sec-Fetch-Site", "none"))).Status);
        foreach (var origin in new[] { "http://attacker.example", $"http://localhost:{server.Address.Port + 1}", "null", $"https://{server.Address.Authority}" })
        {
            var (status, error) = await Send(server.Client, "/api/info", ("Origin", origin));
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Assert.Contains("only the viewer's own pages", error);
        }
        // A no-cors request carries no Origin, but the browser still says where it came from.
        foreach (var site in new[] { "cross-site", "same-site" })
            Assert.Equal(HttpStatusCode.Forbidden, (await Send(server.Client, "/api/info", ("Sec-Fetch-Site", site))).Status);
    }

    [Fact]
    public void ServingOffLoopbackWithoutATokenIsRefused()
    {
        var (exit, _, stderr) = CliHarness.Run("serve", "--model", ViewerServer.ModelsDir + "/attn-only-2l", "--host", "0.0.0.0", "--port", "0");
        Assert.Equal(2, exit);
        Assert.Contains("give --token", stderr);
    }

    [Fact]
    public async Task OffLoopbackEveryRequestNeedsTheToken()
    {
        const string token = "correct horse battery";
        await using var guarded = await GlassboxServer.StartAsync(new ServerOptions
        {
            ModelPath = Path.Combine(ViewerServer.ModelsDir, "attn-only-2l"), Host = "0.0.0.0", Port = 0, Token = token,
        }, TextWriter.Null);
        // Bound to every interface, reached here through loopback only.
        using var client = new HttpClient(new HttpClientHandler { UseCookies = true }) { BaseAddress = new Uri($"http://127.0.0.1:{guarded.Address.Port}") };
        foreach (var bad in new[] { "", "Bearer wrong", "Bearer correct horse batterz", "Basic " + token })
        {
            var (status, error) = await Send(client, "/api/info", bad == "" ? [] : [("Authorization", bad)]);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Contains("needs its token", error);
        }
        Assert.Equal(HttpStatusCode.OK, (await Send(client, "/api/info", ("Authorization", "Bearer " + token))).Status);
        // ?token= on the page sets the cookie the page's own later requests carry.
        Assert.Equal(HttpStatusCode.OK, (await Send(client, "/?token=" + Uri.EscapeDataString(token))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(client, "/api/info")).Status);
    }
}
