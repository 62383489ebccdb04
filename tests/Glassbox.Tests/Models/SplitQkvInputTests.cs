using Glassbox.Hooks;
using static TorchSharp.torch;

namespace Glassbox.Tests.Models;

public class SplitQkvInputTests
{
    [Theory]
    [MemberData(nameof(RuntimeTests.Archs), MemberType = typeof(RuntimeTests))]
    public void PatchingOneHeadsQueryInputChangesThatQueryAlone(string arch)
    {
        using var model = TinyModels.Create(arch);
        using var scope = NewDisposeScope();
        const int layer = 1, head = 2;
        var tokens = TinyModels.Tokens(2, 9);
        var other = TinyModels.Tokens(2, 9, seed: 11);
        string names = $"blocks.{layer}.hook_resid_pre,blocks.{layer}.attn.hook_q,blocks.{layer}.attn.hook_k,blocks.{layer}.attn.hook_v";
        var (cleanLogits, clean) = model.RunWithCache(tokens, names);
        var (_, donor) = model.RunWithCache(other, names);
        using (clean)
        using (donor)
        {
            var identity = model.RunWithHooks(tokens, ($"blocks.*.hook_?_input", (x, _) => x.clone()));
            Assert.True(identity.allclose(cleanLogits, rtol: 1e-5, atol: 1e-5), "split inputs left as they are must not change the output");

            Tensor? q = null, k = null, v = null;
            model.RunWithHooks(tokens,
                ($"blocks.{layer}.hook_q_input", (x, _) =>
                {
                    Assert.Equal(new long[] { 2, 9, model.Config.NHeads, model.Config.DModel }, x.shape);
                    var y = x.clone();
                    y[.., .., head] = donor["resid_pre", layer];
                    return y;
                }),
                ($"blocks.{layer}.hook_k_input", (x, _) => { Assert.Equal(model.Config.NKvHeads, x.shape[2]); return null; }),
                ($"blocks.{layer}.attn.hook_q", (x, _) => { q = x.Keep(); return null; }),
                ($"blocks.{layer}.attn.hook_k", (x, _) => { k = x.Keep(); return null; }),
                ($"blocks.{layer}.attn.hook_v", (x, _) => { v = x.Keep(); return null; }));
            Assert.True(q![.., .., head].allclose(donor["q", layer][.., .., head], rtol: 1e-4, atol: 1e-5), "the patched head's query comes from the donor");
            var others = Enumerable.Range(0, model.Config.NHeads).Where(h => h != head).Select(h => (long)h).ToArray();
            var index = tensor(others);
            Assert.True(q.index_select(2, index).allclose(clean["q", layer].index_select(2, index), rtol: 1e-4, atol: 1e-5), "other heads' queries are untouched");
            Assert.True(k!.allclose(clean["k", layer], rtol: 1e-4, atol: 1e-5) && v!.allclose(clean["v", layer], rtol: 1e-4, atol: 1e-5), "keys and values are untouched");
        }
    }
}
