using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Glassbox.Web;

/// <summary>
/// Lets only the user in. On a loopback binding the Host must be a loopback name (a page on another site cannot reach the
/// API through DNS rebinding). Any request a browser marks as coming from another site — an Origin other than the
/// request's own, or Sec-Fetch-Site cross-site / same-site (another port on localhost is "same-site") — is refused, so a
/// page the user visits cannot drive the viewer. With a token (required off loopback) every request must carry it as
/// <c>Authorization: Bearer</c>, a <c>?token=</c> query (which sets a same-site-strict cookie for the page's later
/// requests) or that cookie; it is compared in constant time.
/// </summary>
public sealed class RequestGuard
{
    const string Cookie = "glassbox_token";
    static readonly string[] LoopbackHosts = ["localhost", "127.0.0.1", "[::1]"];

    readonly bool loopback;
    readonly byte[]? tokenHash;

    public RequestGuard(IPAddress address, string? token)
    {
        loopback = IPAddress.IsLoopback(address);
        if (!loopback && string.IsNullOrEmpty(token))
            throw new GlassboxException($"Serving on {address} exposes the viewer to the network; give --token SECRET (every request must then carry it), or bind 127.0.0.1.");
        if (token is not null && token.Length < 8) throw new GlassboxException("--token must be at least 8 characters.");
        tokenHash = token is null ? null : Hash(token);
    }

    static byte[] Hash(string s) => SHA256.HashData(Encoding.UTF8.GetBytes(s));

    public async Task Check(HttpContext http, RequestDelegate next)
    {
        var request = http.Request;
        if (loopback && !LoopbackHosts.Contains(request.Host.Host, StringComparer.OrdinalIgnoreCase))
            throw new ApiException(400, $"Host '{request.Host.Host}' is not served; this viewer answers only to localhost.");
        if (request.Headers.Origin is { Count: > 0 } origin && !SameOrigin(origin.ToString(), request))
            throw new ApiException(403, $"Requests from {origin} are refused: only the viewer's own pages may call it.");
        if (request.Headers["Sec-Fetch-Site"].ToString() is "cross-site" or "same-site")
            throw new ApiException(403, "Requests from other sites are refused: only the viewer's own pages may call it.");
        if (tokenHash is not null)
        {
            string? query = request.Query["token"];
            string? given = query ?? (request.Headers.Authorization.ToString() is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal)
                ? auth["Bearer ".Length..] : request.Cookies[Cookie]);
            if (given is null || !CryptographicOperations.FixedTimeEquals(Hash(given), tokenHash))
                throw new ApiException(401, "This viewer needs its token: open it with ?token=SECRET or send Authorization: Bearer SECRET.");
            if (query is not null)
                http.Response.Cookies.Append(Cookie, query, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });
        }
        await next(http);
    }

    static bool SameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var o) && o.Scheme == request.Scheme
        && string.Equals(o.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
}
