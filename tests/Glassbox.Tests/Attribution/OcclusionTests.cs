using Glassbox.Attribution;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Attribution;

public class OcclusionTests
{
    static readonly long[] Context = [3, 17, 5, 42, 8, 11, 29];

    static double Rerun(Glassbox.Models.HookedTransformer model, long[] tokens, AttributionTarget target, (int Start, int Span)? zero = null)
    {
        using var scope = NewDisposeScope();
        var input = tensor(tokens).unsqueeze(0);
        var logits = zero is { } z
            ? model.RunWithHooks(input, ("hook_embed", (e, _) => { var y = e.clone(); y[.., TensorIndex.Slice(z.Start, z.Start + z.Span)] = 0; return y; }))
            : model.Forward(input);
        return target.Evaluate(logits).item<double>();
    }

    /// <summary>Techniques §2.4: when every head attends only to its own position, the prediction sees no other token, so occluding one changes nothing.</summary>
    [Theory]
    [InlineData("gpt2", OcclusionMode.Zero)]
    [InlineData("llama", OcclusionMode.Replace)]
    public void UnderIdentityAttentionOnlyThePredictingTokenMatters(string arch, OcclusionMode mode)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var selfOnly = model.Hooks.Add("blocks.*.attn.hook_pattern", (p, _) => eye(p.shape[^1], dtype: p.dtype).expand_as(p).contiguous());
        var scores = new Occlusion { Mode = mode, ReplacementToken = 0 }.Attribute(model, Context, new AttributionTarget(9, TargetKind.LogProbability)).Scores;
        for (int i = 0; i < Context.Length - 1; i++) Assert.Equal(0.0, scores[i], 12);
        Assert.True(Math.Abs(scores[^1]) > 1e-6, $"occluding the predicting token itself must matter ({scores[^1]})");
    }

    [Theory]
    [InlineData(OcclusionMode.Zero, 1)]
    [InlineData(OcclusionMode.Replace, 1)]
    [InlineData(OcclusionMode.Remove, 1)]
    [InlineData(OcclusionMode.Replace, 3)]
    [InlineData(OcclusionMode.Remove, 2)]
    public void OcclusionEqualsRerunningTheEditedInput(OcclusionMode mode, int span)
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        var target = new AttributionTarget(9, TargetKind.LogProbability);
        // A budget of three sequences makes the perturbed inputs run in several batches.
        var budget = new MemoryBudget(3 * MemoryBudget.Default.BytesPerSequence(model.Config, Context.Length, backward: false));
        var occlusion = new Occlusion { Mode = mode, Span = span, ReplacementToken = 0, Budget = budget };
        var scores = occlusion.Attribute(model, Context, target).Scores;
        double full = Rerun(model, Context, target);
        var expected = new double[Context.Length];
        var covered = new int[Context.Length];
        for (int s = 0; s + span <= Context.Length; s++)
        {
            double occluded = mode == OcclusionMode.Zero ? Rerun(model, Context, target, (s, span)) : Rerun(model, occlusion.Edit(Context, s), target);
            for (int i = s; i < s + span; i++) { expected[i] += full - occluded; covered[i]++; }
        }
        for (int i = 0; i < Context.Length; i++) Assert.Equal(expected[i] / covered[i], scores[i], 12);
        if (span == 1 && mode != OcclusionMode.Zero) Assert.Equal(mode == OcclusionMode.Remove ? Context.Length - 1 : Context.Length, occlusion.Edit(Context, 2).Length);
    }

    [Fact]
    public void BadOcclusionSettingsAreClearErrors()
    {
        using var model = TinyModels.Create("gpt2");
        var target = new AttributionTarget(9);
        Assert.Contains("span", Assert.Throws<GlassboxException>(() => new Occlusion { Span = 8 }.Attribute(model, Context, target)).Message);
        Assert.Contains("replacement", Assert.Throws<GlassboxException>(() => new Occlusion { Mode = OcclusionMode.Replace }.Attribute(model, Context, target)).Message);
        Assert.Contains("outside the vocabulary", Assert.Throws<GlassboxException>(() =>
            Attributor.Run(model, new Saliency(), Context, [999], new AttributionTarget(0))).Message);
        Assert.Contains("empty", Assert.Throws<GlassboxException>(() => Attributor.Run(model, new Saliency(), [], [1], new AttributionTarget(0))).Message);
        Assert.Contains("context", Assert.Throws<GlassboxException>(() =>
            Attributor.Run(model, new Saliency(), Enumerable.Repeat(1L, 30).ToArray(), [1], new AttributionTarget(0))).Message);
        var unknown = Assert.Throws<GlassboxException>(() => AttributionMethods.Create("alit"));
        Assert.Contains("'alti'", unknown.Message);
        Assert.Contains("integrated_gradients", unknown.Message);
    }
}
