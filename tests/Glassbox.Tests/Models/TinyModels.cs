using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Models;

/// <summary>Small random models of each architecture, with non-trivial norm weights and biases so that folding and centring are really exercised.</summary>
public static class TinyModels
{
    public static readonly string[] Architectures = { "gpt2", "llama", "neox", "neox-sequential", "llama2c", "attn-only" };

    public static ModelConfig Config(string arch) => arch switch
    {
        "gpt2" => new ModelConfig { Architecture = arch, NLayers = 2, DModel = 32, NHeads = 4, DMlp = 64, VocabSize = 50, ContextLength = 24, Act = Activation.GeluNew },
        "llama" => new ModelConfig
        {
            Architecture = arch, NLayers = 2, DModel = 32, NHeads = 4, NKvHeads = 2, DMlp = 48, VocabSize = 50, ContextLength = 24,
            Norm = NormKind.RmsNorm, Positional = PositionalKind.Rotary, RotaryLayout = RotaryLayout.Halves, Act = Activation.Silu, GatedMlp = true,
        },
        "llama2c" => Config("llama") with { Architecture = arch, RotaryLayout = RotaryLayout.Pairs },
        "attn-only" => Config("gpt2") with { Architecture = arch, AttnOnly = true, DMlp = 0 },
        "neox" => new ModelConfig
        {
            Architecture = arch, NLayers = 2, DModel = 32, NHeads = 4, DMlp = 64, VocabSize = 50, ContextLength = 24,
            Positional = PositionalKind.Rotary, RotaryFraction = 0.5, Act = Activation.Gelu, ParallelAttnMlp = true,
        },
        "neox-sequential" => Config("neox") with { ParallelAttnMlp = false },
        _ => throw new ArgumentException(arch),
    };

    public static StateDict Weights(ModelConfig cfg, long seed = 7)
    {
        var sd = RandomInit.Create(cfg, seed, std: 0.3, biases: cfg.Norm == NormKind.LayerNorm || cfg.Architecture == "llama");
        var gen = new Generator((ulong)seed + 1);
        using var scope = NewDisposeScope();
        foreach (var name in sd.Names.ToList())
        {
            var t = sd[name];
            if (name.EndsWith(".w")) sd[name] = t + normal(0, 0.2, t.shape, generator: gen);
            else if (name.EndsWith(".b") || name.Contains(".b_")) sd[name] = normal(0, 0.2, t.shape, generator: gen);
        }
        if (cfg.Norm == NormKind.LayerNorm) sd["unembed.b_U"] = normal(0, 0.2, new long[] { cfg.VocabSize }, generator: gen);
        return sd;
    }

    public static HookedTransformer Create(string arch, ScalarType dtype = ScalarType.Float32, long seed = 7)
    {
        var cfg = Config(arch);
        using var sd = Weights(cfg, seed);
        return new HookedTransformer(cfg, sd, dtype: dtype);
    }

    public static Tensor Tokens(int batch, int pos, int vocab = 50, long seed = 3) =>
        randint(0, vocab, new long[] { batch, pos }, generator: new Generator((ulong)seed));
}
