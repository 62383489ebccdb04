using System.Text.Json.Nodes;
using Glassbox.Bench.Harness;
using Glassbox.Loading;
using Glassbox.Loading.Adapters;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Bench.Suites;

/// <summary>
/// Issue 16: forward tokens/s of one small random model per Hugging Face family, each as a ratio to llama's measured in the
/// same interleaved rounds. Each model is its reference folder's config.json (<c>../shared/reference/hf</c>, read in place)
/// scaled to one size — d_model, layers, heads (kv heads in the family's ratio), d_head, MLP widths (gated, plain and expert
/// widths chosen so every dense MLP has about the same parameters, and top-k experts the same as one dense MLP), vocabulary and
/// window — read through the family's adapter, with <see cref="RandomInit"/> weights (linear biases where the reference
/// checkpoint has them). So a family differs from llama only by what its config makes it compute, which the report lists
/// next to its analytic FLOPs ratio: a family should cost no more than that.
/// </summary>
public sealed class FamiliesSuite : ISuite
{
    public string Name => "families";
    public string Description => "forward tokens/s of a small random model per Hugging Face family ÷ llama's (issue 16)";

    public const string Baseline = "llama";

    public static readonly string[] Families =
    [
        "llama", "llama3", "smollm2", "mistral", "qwen2", "qwen3", "qwen3_moe", "mixtral", "gemma", "gemma2", "gemma3",
        "olmo", "olmo2", "phi", "phi3", "stablelm", "falcon", "falcon_new_arch", "gpt_neox",
    ];

    /// <summary>The common size: gated MLPs of width Gated, plain (2-matrix) MLPs of width Plain ≈ 1.5 · Gated, experts of width Gated / k.</summary>
    public sealed record Size(int DModel, int Layers, int Heads, int Vocab, int Gated, int Plain, int Window, int Batch, int Pos);

    public static readonly Size Full = new(256, 4, 8, 4096, 688, 1024, 64, 4, 128);
    public static readonly Size Quick = new(64, 2, 4, 512, 172, 256, 16, 2, 32);

    /// <summary>The reference folders, or null when ../shared is absent (GLASSBOX_SHARED overrides).</summary>
    public static string? ReferenceRoot()
    {
        var env = Environment.GetEnvironmentVariable("GLASSBOX_SHARED");
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(env)) candidates.Add(env);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Glassbox.sln"))) candidates.Add(Path.Combine(dir.FullName, "..", "shared"));
        return candidates.Select(c => Path.GetFullPath(Path.Combine(c, "reference", "hf"))).FirstOrDefault(Directory.Exists);
    }

    /// <summary>
    /// <paramref name="family"/>'s config.json scaled to <paramref name="size"/>, read by its adapter (so every quirk the config
    /// names is kept), and whether its checkpoint has linear biases.
    /// </summary>
    public static (ModelConfig Config, bool Biases) Scaled(string root, string family, Size size)
    {
        var dir = Path.Combine(root, family);
        var j = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        string type = j["model_type"]!.GetValue<string>();
        int refHeads = j["num_attention_heads"]!.GetValue<int>();
        j["hidden_size"] = size.DModel;
        j["num_hidden_layers"] = size.Layers;
        j["num_attention_heads"] = size.Heads;
        foreach (var kv in new[] { "num_key_value_heads", "num_kv_heads" })
            if (j[kv] is { } n) j[kv] = Math.Max(1, n.GetValue<int>() * size.Heads / refHeads);
        j["head_dim"] = size.DModel / size.Heads;
        j["vocab_size"] = size.Vocab;
        j["max_position_embeddings"] = Math.Max(j["max_position_embeddings"]?.GetValue<int>() ?? 0, 2 * size.Pos);
        if (j["sliding_window"] is not null) j["sliding_window"] = size.Window;
        j.Remove("layer_types"); // the family's rule lays out the new layer count (Gemma 2: alternate; Gemma 3: every third global)
        int k = j["num_experts_per_tok"]?.GetValue<int>() ?? 1;
        switch (type)
        {
            case "phi" or "gpt_neox": j["intermediate_size"] = size.Plain; break;
            case "falcon": j["ffn_hidden_size"] = size.Plain; break;
            case "mixtral": j["intermediate_size"] = size.Gated / k; break;
            case "qwen3_moe": j["intermediate_size"] = size.Gated; j["moe_intermediate_size"] = size.Gated / k; break;
            default: j["intermediate_size"] = size.Gated; break;
        }
        var temp = Directory.CreateTempSubdirectory("glassbox-bench-");
        try
        {
            var path = Path.Combine(temp.FullName, "config.json");
            File.WriteAllText(path, j.ToJsonString());
            var hf = HfConfig.Load(path);
            var cfg = Architectures.For(type).ReadConfig(hf) with { Architecture = family };
            using var reference = SafeTensorsCheckpoint.OpenDirectory(dir);
            bool biases = reference.Tensors.Any(t => t.Name.EndsWith("proj.bias") || t.Name.EndsWith("query_key_value.bias") || t.Name.EndsWith("dense.bias"));
            return (cfg, biases);
        }
        finally { temp.Delete(recursive: true); }
    }

    /// <summary>What <paramref name="c"/> computes that llama (<paramref name="llama"/>) does not, in words.</summary>
    public static string Extras(ModelConfig c, ModelConfig llama, bool biases)
    {
        var x = new List<string>();
        if (c.NKvHeads != llama.NKvHeads) x.Add($"{c.NKvHeads} kv heads (llama {llama.NKvHeads})");
        if (biases) x.Add("linear biases");
        if (c.Norm == NormKind.LayerNorm) x.Add("LayerNorm (mean and bias)");
        if (!c.PreNorms) x.Add("no pre-norms");
        if (c.PostNorms) x.Add($"post-norms ({(c.PreNorms ? 4 : 2)} norms per layer)");
        if (c.QkNorm != QkNormKind.None) x.Add($"q/k RMSNorm ({(c.QkNorm == QkNormKind.PerHead ? "per head" : "joint")})");
        if (c.QkvClip is not null) x.Add("clip q/k/v");
        if (c.AttnSoftcap is not null) x.Add("attention soft-cap (tanh)");
        if (c.FinalSoftcap is not null) x.Add("logit soft-cap (tanh over the vocabulary)");
        if (c.SlidingWindow is { } w) x.Add($"window {w} on {Enumerable.Range(0, c.NLayers).Count(c.IsSliding)}/{c.NLayers} layers (a mask: no work saved)");
        if (c.LocalRotaryTheta is not null) x.Add("a second RoPE table");
        if (c.RopeScaling is { } rs) x.Add($"rope_scaling {rs.Kind} (the table only)");
        if (c.RotaryDim != c.DHead) x.Add($"partial rotary {c.RotaryDim}/{c.DHead}");
        if (c.ParallelAttnMlp) x.Add("parallel attention and MLP");
        if (c.NExperts > 0) x.Add($"MoE: router + top-{c.ExpertsPerToken} of {c.NExperts} experts of width {c.DExpert}{(c.NormTopKProb ? ", renormalised" : "")}");
        else if (!c.GatedMlp) x.Add($"plain {c.Act} MLP of width {c.DMlp}");
        else if (c.Act != llama.Act) x.Add(c.Act == Activation.GeluNew ? "GeGLU (tanh GELU) MLP" : $"gated {c.Act} MLP");
        return x.Count == 0 ? "nothing (same computation)" : string.Join("; ", x);
    }

    public void Run(BenchContext ctx)
    {
        var o = ctx.Out;
        o.WriteLine("## families");
        o.WriteLine();
        var root = ReferenceRoot();
        if (root is null)
        {
            o.WriteLine("Skipped: the reference configs (`../shared/reference/hf`) are absent; set GLASSBOX_SHARED.");
            return;
        }
        var size = ctx.Quick ? Quick : Full;
        var (warmup, reps) = ctx.Options.Repetitions(quick: (1, 2), full: (2, 15));
        int minQuiet = ctx.Quick ? 0 : 5, maxReps = ctx.Quick ? reps : 3 * reps;

        var models = new List<(string Family, ModelConfig Config, bool Biases, HookedTransformer Model)>();
        try
        {
            foreach (var (family, i) in Families.Select((f, i) => (f, i)))
            {
                ctx.Log($"families: building {family}");
                var (cfg, biases) = Scaled(root, family, size);
                using var weights = RandomInit.Create(cfg, seed: 1000 + i, biases: biases);
                models.Add((family, cfg, biases, new HookedTransformer(cfg, weights)));
            }
            using var tokens = randint(0, size.Vocab, [size.Batch, size.Pos], generator: new Generator(99));
            var variants = models.Select(m => new Variant(m.Family, () => { using var _ = NewDisposeScope(); using var __ = no_grad(); m.Model.Forward(tokens); })).ToList();
            ctx.Log($"families: timing {variants.Count} models, {warmup} warm-up + {reps} rounds (up to {maxReps} for {minQuiet} quiet samples each)");
            var t = Measure.Interleaved(warmup, reps, variants, m => ctx.Log("families: " + m), minQuiet, maxReps).ToDictionary(x => x.Name);

            var llama = models.Single(m => m.Family == Baseline);
            var baseFlops = ForwardFlops.Of(llama.Config, size.Batch, size.Pos).Total;
            double tok = (double)size.Batch * size.Pos;
            o.WriteLine($"Each model: its reference config.json scaled to d_model {size.DModel}, {size.Layers} layers, {size.Heads} heads of {size.DModel / size.Heads} " +
                        $"(kv heads in the family's ratio), gated MLP width {size.Gated} (plain MLPs {size.Plain}; k experts of width {size.Gated}/k), vocab {size.Vocab}, " +
                        $"windows {size.Window}; read by the family's adapter; RandomInit weights. float32, CPU, no_grad. Input: batch {size.Batch} × {size.Pos} tokens. " +
                        $"Timing: {warmup} warm-up + {t[Baseline].Samples.Count} rounds, all {variants.Count} models interleaved (rotating order) in each round; " +
                        $"ratios to `{Baseline}` use the quiet samples (run-queue wait ≤ {100 * Sample.QuietContention:F0}% of wall time) and, paired, the median of per-round ratios. " +
                        $"FLOPs ÷ llama's is the analytic ratio (matmuls only: projections, MLP or routed experts, attention scores, unembedding); " +
                        "a family is *within its arithmetic* when its quiet time ratio is at most its FLOPs ratio + 0.10 (the allowance for the norms, tanh and masks FLOPs leave out).");
            o.WriteLine();
            var table = new MarkdownTable("family", "model_type", "computes beyond llama", "FLOPs ÷ llama", "tokens/s (quiet)", "time ÷ llama (quiet)", "paired", "quiet/rounds", "verdict");
            foreach (var m in models)
            {
                var v = t[m.Family];
                double flops = ForwardFlops.Of(m.Config, size.Batch, size.Pos).Total / baseFlops, ratio = v.QuietMs / t[Baseline].QuietMs;
                table.Row(m.Family, ModelType(root, m.Family), Extras(m.Config, llama.Config, m.Biases), Fmt.Ratio(flops), Fmt.Num(tok / (v.QuietMs / 1000)),
                    Fmt.Ratio(ratio), Fmt.Ratio(v.PairedRatio(t[Baseline])), $"{v.QuietCount}/{v.Samples.Count}",
                    m.Family == Baseline ? "baseline" : ratio <= flops + 0.10 ? "within" : "**slower than its arithmetic**");
            }
            o.Write(table);
            o.WriteLine();
            o.WriteLine($"Baseline: {llama.Config} ({llama.Model.ParameterCount / 1e6:F2} M parameters), {Fmt.Num(t[Baseline].QuietMs)} ms per forward (quiet median).");
        }
        finally
        {
            foreach (var m in models) m.Model.Dispose();
        }
    }

    static string ModelType(string root, string family) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(root, family, "config.json")))!["model_type"]!.GetValue<string>();
}
