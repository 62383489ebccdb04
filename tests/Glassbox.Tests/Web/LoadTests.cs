using System.Diagnostics;
using System.Net.Http.Json;
using Xunit.Abstractions;

namespace Glassbox.Tests.Web;

/// <summary>A bounded loopback load test: 200 requests over the three views, 8 in flight at a time, none may fail.</summary>
[Collection(ViewerCollection.Name)]
public class LoadTests(ViewerServer server, ITestOutputHelper output)
{
    public const int Requests = 200;
    public const int Concurrency = 8;

    [Fact]
    public async Task TwoHundredConcurrentRequestsAllSucceed()
    {
        string[] views = ["tokens", "attention", "lens"];
        var latencies = new double[Requests];
        var failures = new List<string>();
        var total = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, Requests), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, cancel) =>
        {
            var sw = Stopwatch.StartNew();
            // Prompts vary so no layer of the stack can answer from a cache.
            using var response = await server.Client.PostAsJsonAsync("/api/" + views[i % views.Length],
                new { prompt = $"When Mary and John went to the store , {(i % 2 == 0 ? "John" : "Mary")} gave a drink to" + string.Concat(Enumerable.Repeat(" the", i % 7)) }, cancel);
            await response.Content.ReadAsByteArrayAsync(cancel);
            latencies[i] = sw.Elapsed.TotalMilliseconds;
            if (!response.IsSuccessStatusCode) lock (failures) failures.Add($"request {i}: HTTP {(int)response.StatusCode}");
        });
        total.Stop();
        Assert.Empty(failures);
        Array.Sort(latencies);
        double P(double q) => latencies[(int)Math.Ceiling(q * Requests) - 1];
        output.WriteLine($"{Requests} requests, {Concurrency} concurrent, in {total.Elapsed.TotalSeconds:F2} s ({Requests / total.Elapsed.TotalSeconds:F0} req/s): " +
                         $"p50 {P(0.50):F1} ms, p95 {P(0.95):F1} ms, max {latencies[^1]:F1} ms");
        Assert.True(P(0.50) <= P(0.95));
    }
}
