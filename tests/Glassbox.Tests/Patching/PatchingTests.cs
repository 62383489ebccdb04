using Glassbox.Models;
using Glassbox.Patching;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Patching;

public class PatchingTests
{
    static PatchingTask Task(HookedTransformer model, int batch = 3, int pos = 8)
    {
        using var scope = NewDisposeScope();
        var targets = Enumerable.Range(0, batch).Select(b => new MetricTarget(b, pos - 1, [3 + b], [11])).ToArray();
        return new PatchingTask("tiny", TinyModels.Tokens(batch, pos), TinyModels.Tokens(batch, pos, seed: 9), new PatchMetric(MetricKind.LogitDiff, targets));
    }

    [Theory]
    [MemberData(nameof(RuntimeTests.Archs), MemberType = typeof(RuntimeTests))]
    public void WholeCleanResidualRecoversCleanAndNothingPatchedStaysCorrupted(string arch)
    {
        using var model = TinyModels.Create(arch);
        using var task = Task(model);
        var (clean, corrupted) = task.Baselines(model);
        Assert.True(Math.Abs(clean - corrupted) > 0.01, "the corruption must change the metric");
        for (int l = 0; l < model.Config.NLayers; l++)
        {
            double patched = ActivationPatching.PatchWhole(model, task, $"blocks.{l}.hook_resid_pre");
            Assert.Equal(1.0, PatchingTask.Normalise(patched, clean, corrupted), 1e-4);
            double noised = ActivationPatching.PatchWhole(model, task, $"blocks.{l}.hook_resid_pre", PatchDirection.Noising);
            Assert.Equal(0.0, PatchingTask.Normalise(noised, clean, corrupted), 1e-4);
        }
        var sweep = ActivationPatching.Run(model, task, PatchSite.ResidPre);
        Assert.Equal(corrupted, sweep.Unpatched, 1e-9);
        Assert.Equal(model.Config.NLayers, sweep.Values.GetLength(0));
        Assert.Equal(task.Positions, sweep.Values.GetLength(1));
    }

    /// <summary>
    /// With the final norm's scale frozen, everything after an attention-only model's last heads is linear, so the metric is affine
    /// in their z (and in their attention pattern): AtP must equal exact patching there, and AtP*'s QK fix must equal patching queries or keys.
    /// </summary>
    [Fact]
    public void AtPEqualsExactPatchingWhereTheMetricIsLinear()
    {
        using var model = TinyModels.Create("attn-only", ScalarType.Float64);
        using var task = Task(model);
        using var frozen = model.Hooks.Add("ln_final.hook_scale", (x, _) => full_like(x, 1.7));
        int last = model.Config.NLayers - 1;
        foreach (var (site, qkFix) in new[] { (PatchSite.Heads, false), (PatchSite.HeadsByPosition, false), (PatchSite.HeadV, false), (PatchSite.HeadPattern, false),
                     (PatchSite.HeadQ, true), (PatchSite.HeadK, true) })
        {
            var exact = ActivationPatching.Run(model, task, site, PatchDirection.Noising);
            var atp = AttributionPatching.Run(model, task, site, PatchDirection.Noising, qkFix: qkFix);
            int rows = exact.Values.GetLength(0), perLayer = rows / model.Config.NLayers;
            bool moved = false;
            for (int r = last * perLayer; r < rows; r++)
                for (int c = 0; c < exact.Values.GetLength(1); c++)
                {
                    Assert.Equal(exact.Values[r, c], atp.Values[r, c], 1e-6);
                    moved |= Math.Abs(exact.Values[r, c] - exact.Unpatched) > 1e-3;
                }
            Assert.True(moved, $"{site}: no patch moved the metric, so the comparison would be vacuous");
        }
        var attnExact = ActivationPatching.Run(model, task, PatchSite.AttnOut, PatchDirection.Noising);
        var attnAtp = AttributionPatching.Run(model, task, PatchSite.AttnOut, PatchDirection.Noising);
        for (int p = 0; p < task.Positions; p++) Assert.Equal(attnExact.Values[last, p], attnAtp.Values[last, p], 1e-6);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("neox")]
    public void AtPEqualsExactPatchingOfTheLastMlpUnderAFrozenFinalScale(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var task = Task(model);
        using var frozen = model.Hooks.Add("ln_final.hook_scale", (x, _) => full_like(x, 1.7));
        int last = model.Config.NLayers - 1;
        var exact = ActivationPatching.Run(model, task, PatchSite.MlpOut, PatchDirection.Noising);
        var atp = AttributionPatching.Run(model, task, PatchSite.MlpOut, PatchDirection.Noising);
        for (int p = 0; p < task.Positions; p++) Assert.Equal(exact.Values[last, p], atp.Values[last, p], 1e-6);
        Assert.True(Math.Abs(exact.Values[last, task.Positions - 1] - exact.Unpatched) > 1e-3);
    }

    /// <summary>A head's output depends on nothing but its input, so patching its whole input (attn_in) equals patching its z.</summary>
    [Theory]
    [MemberData(nameof(RuntimeTests.Archs), MemberType = typeof(RuntimeTests))]
    public void PatchingAHeadsWholeInputEqualsPatchingItsOutput(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var task = Task(model);
        foreach (var direction in new[] { PatchDirection.Denoising, PatchDirection.Noising })
        {
            var input = ActivationPatching.Run(model, task, PatchSite.HeadAttnIn, direction);
            var output = ActivationPatching.Run(model, task, PatchSite.Heads, direction);
            Assert.Equal(output.RowLabels, input.RowLabels);
            Assert.Equal(output.ColumnLabels, input.ColumnLabels);
            bool moved = false;
            for (int l = 0; l < model.Config.NLayers; l++)
                for (int h = 0; h < model.Config.NHeads; h++)
                {
                    Assert.Equal(output.Values[l, h], input.Values[l, h], 1e-10);
                    moved |= Math.Abs(input.Values[l, h] - input.Unpatched) > 1e-3;
                }
            Assert.True(moved, $"{direction}: no head moved the metric, so the comparison would be vacuous");
        }
    }

    [Fact]
    public void AtPIsZeroWhenSourceEqualsTarget()
    {
        using var model = TinyModels.Create("gpt2");
        using var scope = NewDisposeScope();
        var metric = new PatchMetric(MetricKind.LogitDiff, [new MetricTarget(0, 7, [3], [11])]);
        using var task = new PatchingTask("same", TinyModels.Tokens(1, 8), TinyModels.Tokens(1, 8), metric);
        foreach (var site in new[] { PatchSite.Heads, PatchSite.HeadAttnIn })
        {
            var atp = AttributionPatching.Run(model, task, site);
            Assert.Equal(model.Config.NHeads, atp.Values.GetLength(1));
            foreach (var v in atp.Values) Assert.Equal(atp.Unpatched, v, 1e-9);
        }
    }

    /// <summary>Techniques §3.2: patching a run with its own activations changes nothing, at every site.</summary>
    [Theory]
    [InlineData(PatchSite.ResidPre)]
    [InlineData(PatchSite.AttnOut)]
    [InlineData(PatchSite.MlpOut)]
    [InlineData(PatchSite.HeadsByPosition)]
    [InlineData(PatchSite.HeadPattern)]
    [InlineData(PatchSite.HeadAttnIn)]
    public void PatchingCleanIntoCleanIsANoOp(PatchSite site)
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var own = Task(model);
        using var task = new PatchingTask("self", own.Clean, own.Clean, own.Metric);
        var report = ActivationPatching.Run(model, task, site);
        Assert.Equal(report.Clean, report.Unpatched, 12);
        foreach (var v in report.Values) Assert.Equal(report.Clean, v, 9);
    }

    [Fact]
    public void LongSweepsKeepMemoryFlat()
    {
        using var model = TinyModels.Create("gpt2");
        using var task = Task(model);
        ActivationPatching.Run(model, task, PatchSite.HeadsByPosition);          // warm up allocators and caches
        long tensorsBefore = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        long bytesBefore = System.Diagnostics.Process.GetCurrentProcess().WorkingSet64;
        for (int i = 0; i < 3; i++)
        {
            ActivationPatching.Run(model, task, PatchSite.HeadsByPosition);      // 2 × 4 × 8 patches each
            AttributionPatching.Run(model, task, PatchSite.Heads, gradDrop: true);
        }
        Assert.Equal(tensorsBefore, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        long grown = System.Diagnostics.Process.GetCurrentProcess().WorkingSet64 - bytesBefore;
        Assert.True(grown < 64L << 20, $"working set grew by {grown >> 20} MB over 192 patches and 3 GradDrop runs");
    }
}
