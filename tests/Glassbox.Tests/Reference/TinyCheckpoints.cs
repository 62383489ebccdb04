namespace Glassbox.Tests.Reference;

/// <summary>
/// Seeded generators of tiny random checkpoints in exact Hugging Face layout (tensor names, shapes and
/// config keys as transformers' save_pretrained writes them) for GPT-2, Llama, Qwen2 and GPT-NeoX.
/// </summary>
/// <remarks>
/// Weights are N(0, 0.2), biases N(0, 0.1), norm weights 1 + N(0, 0.1), norm biases N(0, 0.1): large
/// enough that attention is far from uniform and the next-token distributions are far from flat.
/// Sizes default to small, mutually different numbers (so a transposed matrix fails a shape check)
/// and can be overridden through the parameters.
/// </remarks>
public static class TinyCheckpoints
{
    const double WeightStd = 0.2, BiasStd = 0.1, NormStd = 0.1;
    const string TransformersVersion = "4.46.0";

    /// <summary>The names of the standard variants, for <see cref="ByName"/>.</summary>
    public static IReadOnlyList<string> AllNames { get; } = ["gpt2", "llama", "qwen2", "qwen2-tied", "gpt_neox", "gpt_neox-sequential"];

    /// <summary>The standard variants, for [Theory, MemberData(nameof(TinyCheckpoints.Names), MemberType = typeof(TinyCheckpoints))].</summary>
    public static TheoryData<string> Names => new(AllNames);

    /// <summary>One of <see cref="Names"/>, always built the same way.</summary>
    public static TinyCheckpoint ByName(string name) => name switch
    {
        "gpt2" => Gpt2(),
        "llama" => Llama(),
        "qwen2" => Qwen2(),
        "qwen2-tied" => Qwen2(seed: 5, tiedEmbeddings: true),
        "gpt_neox" => GptNeox(),
        "gpt_neox-sequential" => GptNeox(seed: 6, nHeads: 4, rotaryPct: 0.5, parallelResidual: false),
        _ => throw new ArgumentException($"No tiny checkpoint named '{name}'.", nameof(name)),
    };

    /// <summary>Deterministic random tokens in [0, vocab).</summary>
    public static int[] RandomTokens(int seed, int count, int vocab) => new SeededWeights(seed).Tokens(count, vocab);

    /// <summary>GPT2LMHeadModel: learned positions, LayerNorm, Conv1D weights ([in, out]), gelu_new, lm_head tied (not stored).</summary>
    public static TinyCheckpoint Gpt2(int seed = 1, int dModel = 24, int nLayers = 2, int nHeads = 4, int vocab = 60,
        int nPositions = 32, double layerNormEps = 1e-5)
    {
        var r = new SeededWeights(seed);
        int d = dModel, inner = 4 * d;
        var t = new Dictionary<string, (float[] Data, int[] Shape)>
        {
            ["transformer.wte.weight"] = r.Gaussian(WeightStd, vocab, d),
            ["transformer.wpe.weight"] = r.Gaussian(WeightStd, nPositions, d),
        };
        for (int l = 0; l < nLayers; l++)
        {
            string p = $"transformer.h.{l}.";
            t[p + "ln_1.weight"] = r.NormWeights(NormStd, d);
            t[p + "ln_1.bias"] = r.Gaussian(NormStd, d);
            t[p + "attn.c_attn.weight"] = r.Gaussian(WeightStd, d, 3 * d);
            t[p + "attn.c_attn.bias"] = r.Gaussian(BiasStd, 3 * d);
            t[p + "attn.c_proj.weight"] = r.Gaussian(WeightStd, d, d);
            t[p + "attn.c_proj.bias"] = r.Gaussian(BiasStd, d);
            t[p + "ln_2.weight"] = r.NormWeights(NormStd, d);
            t[p + "ln_2.bias"] = r.Gaussian(NormStd, d);
            t[p + "mlp.c_fc.weight"] = r.Gaussian(WeightStd, d, inner);
            t[p + "mlp.c_fc.bias"] = r.Gaussian(BiasStd, inner);
            t[p + "mlp.c_proj.weight"] = r.Gaussian(WeightStd, inner, d);
            t[p + "mlp.c_proj.bias"] = r.Gaussian(BiasStd, d);
        }
        t["transformer.ln_f.weight"] = r.NormWeights(NormStd, d);
        t["transformer.ln_f.bias"] = r.Gaussian(NormStd, d);

        var config = new Dictionary<string, object?>
        {
            ["activation_function"] = "gelu_new",
            ["architectures"] = new[] { "GPT2LMHeadModel" },
            ["attn_pdrop"] = 0.1,
            ["bos_token_id"] = vocab - 1,
            ["embd_pdrop"] = 0.1,
            ["eos_token_id"] = vocab - 1,
            ["initializer_range"] = 0.02,
            ["layer_norm_epsilon"] = layerNormEps,
            ["model_type"] = "gpt2",
            ["n_ctx"] = nPositions,
            ["n_embd"] = d,
            ["n_head"] = nHeads,
            ["n_inner"] = null,
            ["n_layer"] = nLayers,
            ["n_positions"] = nPositions,
            ["reorder_and_upcast_attn"] = false,
            ["resid_pdrop"] = 0.1,
            ["scale_attn_by_inverse_layer_idx"] = false,
            ["scale_attn_weights"] = true,
            ["summary_activation"] = null,
            ["summary_first_dropout"] = 0.1,
            ["summary_proj_to_labels"] = true,
            ["summary_type"] = "cls_index",
            ["summary_use_proj"] = true,
            ["tie_word_embeddings"] = true,
            ["torch_dtype"] = "float32",
            ["transformers_version"] = TransformersVersion,
            ["use_cache"] = true,
            ["vocab_size"] = vocab,
        };
        return new TinyCheckpoint("gpt2", "gpt2", config, t);
    }

    /// <summary>LlamaForCausalLM: RMSNorm, rotate-half RoPE, grouped-query attention, SwiGLU, untied lm_head.</summary>
    public static TinyCheckpoint Llama(int seed = 2, int dModel = 32, int nLayers = 2, int nHeads = 4, int nKvHeads = 2,
        int intermediate = 56, int vocab = 61, int context = 32, double ropeTheta = 10000, double rmsNormEps = 1e-5)
    {
        var t = LlamaFamilyTensors(new SeededWeights(seed), dModel, nLayers, nHeads, nKvHeads, intermediate, vocab,
            qkvBias: false, untiedHead: true);
        var config = new Dictionary<string, object?>
        {
            ["architectures"] = new[] { "LlamaForCausalLM" },
            ["attention_bias"] = false,
            ["attention_dropout"] = 0.0,
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
            ["head_dim"] = dModel / nHeads,
            ["hidden_act"] = "silu",
            ["hidden_size"] = dModel,
            ["initializer_range"] = 0.02,
            ["intermediate_size"] = intermediate,
            ["max_position_embeddings"] = context,
            ["mlp_bias"] = false,
            ["model_type"] = "llama",
            ["num_attention_heads"] = nHeads,
            ["num_hidden_layers"] = nLayers,
            ["num_key_value_heads"] = nKvHeads,
            ["pretraining_tp"] = 1,
            ["rms_norm_eps"] = rmsNormEps,
            ["rope_scaling"] = null,
            ["rope_theta"] = ropeTheta,
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = "float32",
            ["transformers_version"] = TransformersVersion,
            ["use_cache"] = true,
            ["vocab_size"] = vocab,
        };
        return new TinyCheckpoint("llama", "llama", config, t);
    }

    /// <summary>Qwen2ForCausalLM: Llama plus q/k/v biases; with <paramref name="tiedEmbeddings"/> lm_head is not stored.</summary>
    public static TinyCheckpoint Qwen2(int seed = 3, bool tiedEmbeddings = false, int dModel = 32, int nLayers = 2, int nHeads = 4,
        int nKvHeads = 2, int intermediate = 48, int vocab = 63, int context = 32, double ropeTheta = 1000000, double rmsNormEps = 1e-6)
    {
        var t = LlamaFamilyTensors(new SeededWeights(seed), dModel, nLayers, nHeads, nKvHeads, intermediate, vocab,
            qkvBias: true, untiedHead: !tiedEmbeddings);
        var config = new Dictionary<string, object?>
        {
            ["architectures"] = new[] { "Qwen2ForCausalLM" },
            ["attention_dropout"] = 0.0,
            ["bos_token_id"] = vocab - 2,
            ["eos_token_id"] = vocab - 1,
            ["hidden_act"] = "silu",
            ["hidden_size"] = dModel,
            ["initializer_range"] = 0.02,
            ["intermediate_size"] = intermediate,
            ["max_position_embeddings"] = context,
            ["max_window_layers"] = nLayers,
            ["model_type"] = "qwen2",
            ["num_attention_heads"] = nHeads,
            ["num_hidden_layers"] = nLayers,
            ["num_key_value_heads"] = nKvHeads,
            ["rms_norm_eps"] = rmsNormEps,
            ["rope_scaling"] = null,
            ["rope_theta"] = ropeTheta,
            ["sliding_window"] = context,
            ["tie_word_embeddings"] = tiedEmbeddings,
            ["torch_dtype"] = "float32",
            ["transformers_version"] = TransformersVersion,
            ["use_cache"] = true,
            ["use_sliding_window"] = false,
            ["vocab_size"] = vocab,
        };
        return new TinyCheckpoint(tiedEmbeddings ? "qwen2-tied" : "qwen2", "qwen2", config, t);
    }

    static Dictionary<string, (float[] Data, int[] Shape)> LlamaFamilyTensors(SeededWeights r, int d, int nLayers, int nHeads,
        int nKvHeads, int intermediate, int vocab, bool qkvBias, bool untiedHead)
    {
        int dHead = d / nHeads, kv = nKvHeads * dHead;
        var t = new Dictionary<string, (float[] Data, int[] Shape)>
        {
            ["model.embed_tokens.weight"] = r.Gaussian(WeightStd, vocab, d),
        };
        for (int l = 0; l < nLayers; l++)
        {
            string p = $"model.layers.{l}.";
            t[p + "input_layernorm.weight"] = r.NormWeights(NormStd, d);
            t[p + "self_attn.q_proj.weight"] = r.Gaussian(WeightStd, nHeads * dHead, d);
            t[p + "self_attn.k_proj.weight"] = r.Gaussian(WeightStd, kv, d);
            t[p + "self_attn.v_proj.weight"] = r.Gaussian(WeightStd, kv, d);
            if (qkvBias)
            {
                t[p + "self_attn.q_proj.bias"] = r.Gaussian(BiasStd, nHeads * dHead);
                t[p + "self_attn.k_proj.bias"] = r.Gaussian(BiasStd, kv);
                t[p + "self_attn.v_proj.bias"] = r.Gaussian(BiasStd, kv);
            }
            t[p + "self_attn.o_proj.weight"] = r.Gaussian(WeightStd, d, nHeads * dHead);
            t[p + "post_attention_layernorm.weight"] = r.NormWeights(NormStd, d);
            t[p + "mlp.gate_proj.weight"] = r.Gaussian(WeightStd, intermediate, d);
            t[p + "mlp.up_proj.weight"] = r.Gaussian(WeightStd, intermediate, d);
            t[p + "mlp.down_proj.weight"] = r.Gaussian(WeightStd, d, intermediate);
        }
        t["model.norm.weight"] = r.NormWeights(NormStd, d);
        if (untiedHead) t["lm_head.weight"] = r.Gaussian(WeightStd, vocab, d);
        return t;
    }

    /// <summary>
    /// GPTNeoXForCausalLM: LayerNorm, fused query_key_value ([3d, d], output viewed [heads, 3, d_head]),
    /// partial rotary (rotary_pct of each head), exact-erf gelu, parallel residual by default, untied embed_out.
    /// </summary>
    public static TinyCheckpoint GptNeox(int seed = 4, double rotaryPct = 0.25, bool parallelResidual = true, int dModel = 32,
        int nLayers = 2, int nHeads = 2, int intermediate = 80, int vocab = 62, int context = 32, double rotaryBase = 10000,
        double layerNormEps = 1e-5)
    {
        var r = new SeededWeights(seed);
        int d = dModel;
        var t = new Dictionary<string, (float[] Data, int[] Shape)>
        {
            ["gpt_neox.embed_in.weight"] = r.Gaussian(WeightStd, vocab, d),
        };
        for (int l = 0; l < nLayers; l++)
        {
            string p = $"gpt_neox.layers.{l}.";
            t[p + "input_layernorm.weight"] = r.NormWeights(NormStd, d);
            t[p + "input_layernorm.bias"] = r.Gaussian(NormStd, d);
            t[p + "post_attention_layernorm.weight"] = r.NormWeights(NormStd, d);
            t[p + "post_attention_layernorm.bias"] = r.Gaussian(NormStd, d);
            t[p + "attention.query_key_value.weight"] = r.Gaussian(WeightStd, 3 * d, d);
            t[p + "attention.query_key_value.bias"] = r.Gaussian(BiasStd, 3 * d);
            t[p + "attention.dense.weight"] = r.Gaussian(WeightStd, d, d);
            t[p + "attention.dense.bias"] = r.Gaussian(BiasStd, d);
            t[p + "mlp.dense_h_to_4h.weight"] = r.Gaussian(WeightStd, intermediate, d);
            t[p + "mlp.dense_h_to_4h.bias"] = r.Gaussian(BiasStd, intermediate);
            t[p + "mlp.dense_4h_to_h.weight"] = r.Gaussian(WeightStd, d, intermediate);
            t[p + "mlp.dense_4h_to_h.bias"] = r.Gaussian(BiasStd, d);
        }
        t["gpt_neox.final_layer_norm.weight"] = r.NormWeights(NormStd, d);
        t["gpt_neox.final_layer_norm.bias"] = r.Gaussian(NormStd, d);
        t["embed_out.weight"] = r.Gaussian(WeightStd, vocab, d);

        var config = new Dictionary<string, object?>
        {
            ["architectures"] = new[] { "GPTNeoXForCausalLM" },
            ["attention_bias"] = true,
            ["attention_dropout"] = 0.0,
            ["bos_token_id"] = 0,
            ["classifier_dropout"] = 0.1,
            ["eos_token_id"] = 0,
            ["hidden_act"] = "gelu",
            ["hidden_dropout"] = 0.0,
            ["hidden_size"] = d,
            ["initializer_range"] = 0.02,
            ["intermediate_size"] = intermediate,
            ["layer_norm_eps"] = layerNormEps,
            ["max_position_embeddings"] = context,
            ["model_type"] = "gpt_neox",
            ["num_attention_heads"] = nHeads,
            ["num_hidden_layers"] = nLayers,
            ["rope_scaling"] = null,
            ["rotary_emb_base"] = rotaryBase,
            ["rotary_pct"] = rotaryPct,
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = "float32",
            ["transformers_version"] = TransformersVersion,
            ["use_cache"] = true,
            ["use_parallel_residual"] = parallelResidual,
            ["vocab_size"] = vocab,
        };
        return new TinyCheckpoint(parallelResidual ? "gpt_neox" : "gpt_neox-sequential", "gpt_neox", config, t);
    }
}
