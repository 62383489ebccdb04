using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Models;

public class RuntimeTests
{
    [Fact]
    public void TorchSharpRunsForwardAndBackward()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0f, 2.0f, 3.0f }).requires_grad_(true);
        var y = (x * x).sum();
        y.backward();
        Assert.Equal(14f, y.item<float>());
        Assert.Equal(new[] { 2f, 4f, 6f }, x.grad!.data<float>().ToArray());
    }

    [Theory]
    [MemberData(nameof(Archs))]
    public void LaterTokensDoNotChangeEarlierLogits(string arch)
    {
        using var model = TinyModels.Create(arch);
        using var scope = NewDisposeScope();
        var a = TinyModels.Tokens(1, 12);
        var b = a.clone();
        b[0, 8] = tensor((a[0, 8].item<long>() + 1) % 50);
        b[0, 11] = tensor((a[0, 11].item<long>() + 7) % 50);
        var la = model.Forward(a);
        var lb = model.Forward(b);
        Assert.True(la[.., ..8].allclose(lb[.., ..8], rtol: 0, atol: 1e-6), "positions before the change must be identical");
        Assert.False(la[.., 8..].allclose(lb[.., 8..], rtol: 0, atol: 1e-3), "positions after the change must differ");
    }

    [Theory]
    [MemberData(nameof(Archs))]
    public void BatchEqualsRowsOneByOne(string arch)
    {
        using var model = TinyModels.Create(arch);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(3, 10);
        var batched = model.Forward(tokens);
        for (int r = 0; r < 3; r++)
            Assert.True(batched[r].allclose(model.Forward(tokens[r].unsqueeze(0))[0], rtol: 1e-5, atol: 1e-5), $"row {r}");
    }

    [Theory]
    [MemberData(nameof(Archs))]
    public void KvCacheEqualsFullRecomputation(string arch)
    {
        using var model = TinyModels.Create(arch);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(1, 14);
        var full = model.Forward(tokens);
        using var cache = new KvCache(model.Config.NLayers);
        var first = model.Forward(tokens[.., ..5], cache);
        Assert.True(first.allclose(full[.., ..5], rtol: 1e-5, atol: 1e-5));
        for (int i = 5; i < 14; i++)
        {
            var step = model.Forward(tokens[.., i..(i + 1)], cache);
            Assert.True(step[0, 0].allclose(full[0, i], rtol: 1e-4, atol: 1e-5), $"position {i}");
        }
        Assert.Equal(14, cache.Length);

        var withCache = Generation.Generate(model, new long[] { 1, 2, 3 }, new GenerationOptions { MaxNewTokens = 10, StopToken = null });
        var without = Generation.Generate(model, new long[] { 1, 2, 3 }, new GenerationOptions { MaxNewTokens = 10, StopToken = null, UseKvCache = false });
        Assert.Equal(without, withCache);
    }

    [Fact]
    public void SamplingIsReproducibleWithASeedAndRespectsTopK()
    {
        using var model = TinyModels.Create("gpt2");
        var o = new GenerationOptions { MaxNewTokens = 12, Temperature = 1.0, TopK = 5, TopP = 0.9, Seed = 42, StopToken = null };
        var a = Generation.Generate(model, new long[] { 1 }, o);
        var b = Generation.Generate(model, new long[] { 1 }, o);
        var c = Generation.Generate(model, new long[] { 1 }, o with { Seed = 43 });
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        // top-k 1 is greedy whatever the temperature.
        Assert.Equal(Generation.Generate(model, new long[] { 1 }, o with { Temperature = 0 }),
                     Generation.Generate(model, new long[] { 1 }, o with { TopK = 1, TopP = null }));
    }

    [Fact]
    public void PromptLongerThanContextIsAClearError()
    {
        using var model = TinyModels.Create("gpt2");
        var e = Assert.Throws<GlassboxException>(() => model.Forward(zeros(1, 30, dtype: ScalarType.Int64)));
        Assert.Contains("30 tokens", e.Message);
        Assert.Contains("context is 24", e.Message);
    }

    [Fact]
    public void TokenOutsideTheVocabularyIsAClearError()
    {
        using var model = TinyModels.Create("gpt2");
        var e = Assert.Throws<GlassboxException>(() => model.Forward(tensor(new long[] { 1, 50 })));
        Assert.Contains("Token id 50", e.Message);
    }

    [Theory]
    [MemberData(nameof(Archs))]
    public void ReducedPrecisionRunsCloseToFloat32(string arch)
    {
        using var f32 = TinyModels.Create(arch);
        using var bf16 = TinyModels.Create(arch, ScalarType.BFloat16);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(1, 8);
        var a = f32.Forward(tokens).log_softmax(-1);
        var b = bf16.Forward(tokens).to(ScalarType.Float32).log_softmax(-1);
        Assert.Equal(ScalarType.BFloat16, bf16.W_E.dtype);
        Assert.True((a - b).abs().max().item<float>() < 0.25f);
    }

    public static TheoryData<string> Archs() => new(TinyModels.Architectures);
}
