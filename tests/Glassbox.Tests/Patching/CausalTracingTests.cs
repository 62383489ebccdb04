using Glassbox.Hooks;
using Glassbox.Models;
using Glassbox.Patching;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Patching;

public class CausalTracingTests
{
    const int Positions = 8, Subject = 2;

    static PatchMetric Metric() => new(MetricKind.Probability, [new MetricTarget(0, Positions - 1, [3], []), new MetricTarget(1, Positions - 1, [4], [])]);

    static HookedTransformer FourLayers(string arch)
    {
        var cfg = TinyModels.Config(arch) with { NLayers = 4 };
        using var sd = TinyModels.Weights(cfg);
        return new HookedTransformer(cfg, sd, dtype: ScalarType.Float64);
    }

    [Theory]
    [InlineData(5, 10, 12, 0, 9)]
    [InlineData(0, 10, 4, 0, 3)]
    [InlineData(2, 1, 4, 2, 2)]
    [InlineData(3, 3, 4, 2, 3)]
    [InlineData(1, 2, 4, 0, 1)]
    [InlineData(0, 4, 4, 0, 1)]
    public void WindowsAreCentredAndClippedAtTheEdges(int layer, int window, int layers, int first, int last) =>
        Assert.Equal((first, last), CausalTracing.Window(layer, window, layers));

    /// <summary>
    /// The metric's own position is not corrupted, so with its attention output restored in every layer its residual is clean
    /// all the way up (MLPs and norms act per position): the clean metric, exactly, whatever the noise.
    /// </summary>
    [Theory]
    [MemberData(nameof(RuntimeTests.Archs), MemberType = typeof(RuntimeTests))]
    public void RestoringAttentionOutputsOfEveryLayerAtThePredictionGivesTheCleanMetric(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        int L = model.Config.NLayers;
        var report = CausalTracing.Run(model, TinyModels.Tokens(2, Positions), Metric(), [Subject], samples: 2, state: TracedState.AttnOut, window: 2 * L);
        Assert.True(Math.Abs(report.Clean - report.Corrupted) > 1e-4, "3σ noise on the subject must change the prediction");
        for (int l = 0; l < L; l++)
        {
            Assert.Equal(report.Clean, report.Values[l, Positions - 1], 1e-10);
            // Positions before the subject never see the noise: restoring them changes nothing.
            for (int p = 0; p < Subject; p++) Assert.Equal(report.Corrupted, report.Values[l, p], 1e-10);
        }
    }

    /// <summary>One sample, its noise drawn as documented (σ = 3·std(W_E), seeded), restored by hand in the window's layers.</summary>
    [Theory]
    [InlineData("gpt2", TracedState.MlpOut, 1)]
    [InlineData("llama", TracedState.AttnOut, 3)]
    [InlineData("neox", TracedState.MlpOut, 2)]
    [InlineData("attn-only", TracedState.ResidPre, 1)]
    public void EachRowRestoresItsWindowsLayersAsAHandWrittenHookDoes(string arch, TracedState state, int window)
    {
        using var model = FourLayers(arch);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(2, Positions);
        const int seed = 5;
        var report = CausalTracing.Run(model, tokens, Metric(), [Subject, Subject + 1], samples: 1, seed: seed, state: state, window: window);

        using var task = new PatchingTask("manual", tokens, tokens, Metric());
        double sigma = 3 * model.W_E.std().item<double>();
        var noise = randn(new long[] { 2, 2, model.Config.DModel }, generator: new Generator(seed)).to(ScalarType.Float64) * sigma;
        (string, HookFn) corrupt = ("hook_embed", (x, _) => { var y = x.clone(); y[.., Subject..(Subject + 2)] += noise; return y; });
        Assert.Equal(task.Measure(model, tokens, corrupt), report.Corrupted, 1e-10);
        string name = state switch { TracedState.AttnOut => "attn_out", TracedState.MlpOut => "mlp_out", _ => "resid_pre" };
        var (_, clean) = model.RunWithCache(tokens, $"blocks.*.hook_{name}");
        using (clean)
            foreach (var (l, p) in new[] { (0, Subject), (1, Subject + 1), (3, Positions - 1), (2, Subject) })
            {
                var (first, last) = CausalTracing.Window(l, window, 4);
                var hooks = Enumerable.Range(first, last - first + 1).Select(k => (HookNames.Full(name, k), (HookFn)((x, _) =>
                {
                    var y = x.clone();
                    y[.., p] = clean[name, k][.., p];
                    return y;
                })));
                double manual = task.Measure(model, tokens, [corrupt, .. hooks]);
                Assert.Equal(manual, report.Values[l, p], 1e-10);
            }
    }

    [Fact]
    public void BadWindowsAndStatesAreClearErrors()
    {
        using var model = TinyModels.Create("attn-only");
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(2, Positions);
        Assert.Contains("at least one layer", Assert.Throws<GlassboxException>(() => CausalTracing.Run(model, tokens, Metric(), [Subject], window: 0)).Message);
        Assert.Contains("no mlp_out", Assert.Throws<GlassboxException>(() => CausalTracing.Run(model, tokens, Metric(), [Subject], state: TracedState.MlpOut)).Message);
        Assert.Contains("resid_pre, attn_out or mlp_out", Assert.Throws<GlassboxException>(() => CausalTracing.ParseState("hidden")).Message);
        Assert.Equal(TracedState.MlpOut, CausalTracing.ParseState("mlp_out"));
    }
}
