using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Models;

/// <summary>blocks.L.hook_attn_in: one copy of the residual per head that its query, key and value all read.</summary>
public class AttnInTests
{
    const int Layer = 1, Head = 2;

    static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<double>();

    [Theory]
    [MemberData(nameof(RuntimeTests.Archs), MemberType = typeof(RuntimeTests))]
    public void IdentityHooksChangeNothingAloneOrComposedWithTheSplitInputs(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(2, 9);
        var plain = model.Forward(tokens);
        int calls = 0;
        var alone = model.RunWithHooks(tokens, ("blocks.*.hook_attn_in", (x, p) =>
        {
            Assert.Equal(new long[] { 2, 9, model.Config.NHeads, model.Config.DModel }, x.shape);
            calls++;
            return x.clone();
        }));
        Assert.Equal(model.Config.NLayers, calls);
        Assert.True(MaxDiff(plain, alone) < 1e-10, $"attn_in alone: {MaxDiff(plain, alone):E2}");
        var composed = model.RunWithHooks(tokens, ("blocks.*.hook_attn_in,blocks.*.hook_?_input", (x, _) => x.clone()));
        Assert.True(MaxDiff(plain, composed) < 1e-10, $"attn_in with the split inputs: {MaxDiff(plain, composed):E2}");
    }

    [Theory]
    [MemberData(nameof(RuntimeTests.Archs), MemberType = typeof(RuntimeTests))]
    public void PatchingOneHeadsAttnInEqualsPatchingItsQueryKeyAndValueInputsTogether(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        var cfg = model.Config;
        var tokens = TinyModels.Tokens(2, 9);
        var (_, clean) = model.RunWithCache(tokens, HookNames.Full("z", Layer));
        var (_, donor) = model.RunWithCache(TinyModels.Tokens(2, 9, seed: 11), HookNames.Full("resid_pre", Layer));
        using (clean)
        using (donor)
        {
            var resid = donor["resid_pre", Layer];
            HookFn Slot(int slot) => (x, _) => { var y = x.clone(); y[.., .., slot] = resid; return y; };
            Tensor? viaAttnIn = null, viaSplit = null;
            model.RunWithHooks(tokens, (HookNames.Full("attn_in", Layer), Slot(Head)),
                (HookNames.Full("z", Layer), (x, _) => { viaAttnIn = x.Keep(); return null; }));
            int group = Head / (cfg.NHeads / cfg.NKvHeads);
            model.RunWithHooks(tokens, (HookNames.Full("q_input", Layer), Slot(Head)),
                (HookNames.Full("k_input", Layer), Slot(group)), (HookNames.Full("v_input", Layer), Slot(group)),
                (HookNames.Full("z", Layer), (x, _) => { viaSplit = x.Keep(); return null; }));

            double patched = MaxDiff(viaAttnIn![.., .., Head], viaSplit![.., .., Head]);
            Assert.True(patched < 1e-10, $"the patched head's z differs by {patched:E2}");
            Assert.True(MaxDiff(viaAttnIn[.., .., Head], clean["z", Layer][.., .., Head]) > 1e-3, "the donor must change the head");
            // attn_in is the head's own input: with grouped queries the other heads of its kv group keep their clean keys and values.
            var others = tensor(Enumerable.Range(0, cfg.NHeads).Where(h => h != Head).Select(h => (long)h).ToArray());
            double untouched = MaxDiff(viaAttnIn.index_select(2, others), clean["z", Layer].index_select(2, others));
            Assert.True(untouched < 1e-10, $"other heads moved by {untouched:E2}");
        }
    }

    [Theory]
    [MemberData(nameof(RuntimeTests.Archs), MemberType = typeof(RuntimeTests))]
    public void PatchingEveryHeadsAttnInWithAnotherPromptsResidualReproducesItsAttentionOutput(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(2, 9);
        var (_, donor) = model.RunWithCache(TinyModels.Tokens(2, 9, seed: 11), "blocks.*.hook_resid_pre,blocks.*.hook_attn_out");
        using (donor)
            for (int layer = 0; layer < model.Config.NLayers; layer++)
            {
                var resid = donor["resid_pre", layer];
                Tensor? attnOut = null;
                model.RunWithHooks(tokens, (HookNames.Full("attn_in", layer), (x, _) => resid.unsqueeze(2).expand_as(x)),
                    (HookNames.Full("attn_out", layer), (x, _) => { attnOut = x.Keep(); return null; }));
                double diff = MaxDiff(attnOut!, donor["attn_out", layer]);
                Assert.True(diff < 1e-10, $"layer {layer}: attn_out differs from the donor's by {diff:E2}");
            }
    }

    [Fact]
    public void SplitInputsStartFromThePatchedAttnInAndGroupedHeadsRunUngrouped()
    {
        using var model = TinyModels.Create("llama", ScalarType.Float64);
        using var scope = NewDisposeScope();
        var cfg = model.Config;
        var tokens = TinyModels.Tokens(1, 6);
        Tensor? k = null, kInput = null, qInput = null;
        model.RunWithHooks(tokens, (HookNames.Full("attn_in", Layer), (x, _) => { var y = x.clone(); y[.., .., Head] = 0; return y; }),
            (HookNames.Full("q_input", Layer), (x, _) => { qInput = x.Keep(); return null; }),
            (HookNames.Full("k_input", Layer), (x, _) => { kInput = x.Keep(); return null; }),
            (HookNames.Full("k", Layer), (x, _) => { k = x.Keep(); return null; }));
        Assert.Equal(0, qInput![.., .., Head].abs().sum().item<double>());
        Assert.Equal(cfg.NHeads, kInput!.shape[2]);
        Assert.Equal(cfg.NHeads, k!.shape[2]);

        using var cache = new KvCache(cfg.NLayers);
        using (model.Hooks.Add(HookNames.Full("attn_in", Layer), (x, _) => x.clone()))
        {
            var e = Assert.Throws<GlassboxException>(() => model.Forward(tokens, cache));
            Assert.Contains("hook_attn_in", e.Message);
        }
    }
}
