using Glassbox.Datasets;
using Glassbox.Patching;
using Glassbox.Tests.ModelZoo;
using Xunit.Abstractions;

namespace Glassbox.Tests.Patching;

/// <summary>Patching and attribution patching on ioi-gpt2-4l, scored on its model card.</summary>
public class IoiPatchingTests(IoiGpt2Fixture f, ITestOutputHelper output) : IClassFixture<IoiGpt2Fixture>
{
    [Fact]
    public void ExactHeadPatchingFindsTheCardsHeadsAndAtPRanksThemAlike()
    {
        var model = f.Probe.Zoo.Model;
        using var task = PatchingTask.Ioi(new IoiDataset(f.Probe.Zoo.Tokenizer).Generate(100, 4242));
        var noising = ActivationPatching.Run(model, task, PatchSite.Heads, PatchDirection.Noising);
        output.WriteLine(noising.ToText());
        var heads = Enumerable.Range(0, 16).Select(i => (L: i / 4, H: i % 4)).ToArray();
        // Noising a head that carries the behaviour lowers the logit difference: the card's heads are among the four most harmful.
        var top = heads.OrderBy(h => noising.Values[h.L, h.H]).Take(4).ToList();
        foreach (var head in new[] { (2, 0), (1, 3), (0, 0) }) Assert.Contains(head, top);

        // Denoising: AtP from the corrupted run's gradient against restoring each head exactly.
        var exact = ActivationPatching.Run(model, task, PatchSite.Heads, PatchDirection.Denoising);
        var atp = AttributionPatching.Run(model, task, PatchSite.Heads, PatchDirection.Denoising);
        output.WriteLine(exact.ToText());
        output.WriteLine(atp.ToText());
        double rho = Spearman(heads.Select(h => exact.Values[h.L, h.H]).ToArray(), heads.Select(h => atp.Values[h.L, h.H]).ToArray());
        output.WriteLine($"Spearman ρ(AtP, exact) = {rho:F3}");
        Assert.True(rho >= 0.8, $"rank correlation {rho}");
    }

    [Fact]
    public void DlaFindsTheCardsDirectWriters()
    {
        var dla = DirectLogitAttribution.Run(f.Probe.Zoo.Model, f.Probe.GroupTokens,
            f.Probe.Group.Select((p, i) => new MetricTarget(i, p.EndPosition, [p.IoToken], [p.SToken])).ToArray());
        Assert.Equal(dla.Actual, dla.Total, 1e-4);
        var top = dla.Heads.Ranked().Take(3).Select(h => (h.Layer, h.Head)).ToList();
        Assert.Contains((2, 0), top);
        Assert.Contains((1, 3), top);
    }

    internal static double Spearman(double[] a, double[] b)
    {
        double[] Ranks(double[] x)
        {
            var order = Enumerable.Range(0, x.Length).OrderBy(i => x[i]).ToArray();
            var r = new double[x.Length];
            for (int k = 0; k < order.Length; k++) r[order[k]] = k;
            return r;
        }
        var (ra, rb) = (Ranks(a), Ranks(b));
        double ma = ra.Average(), mb = rb.Average();
        double cov = ra.Zip(rb).Sum(p => (p.First - ma) * (p.Second - mb));
        return cov / Math.Sqrt(ra.Sum(x => (x - ma) * (x - ma)) * rb.Sum(x => (x - mb) * (x - mb)));
    }
}
