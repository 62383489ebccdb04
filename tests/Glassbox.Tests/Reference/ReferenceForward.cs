using static Glassbox.Tests.Reference.ReferenceMath;

namespace Glassbox.Tests.Reference;

/// <summary>
/// An independent float64 forward pass for GPT-2, Llama, Qwen2 and GPT-NeoX Hugging Face checkpoints and
/// for llama2.c files, written from the architectures' definitions with plain loops. It uses neither
/// TorchSharp nor any Glassbox type, so it cannot share a bug with the library it checks.
/// Every method returns log_softmax of the logits: result[position, token].
/// </summary>
public static class ReferenceForward
{
    public static double[,] LogProbs(string modelType, IReadOnlyDictionary<string, object?> config,
        IReadOnlyDictionary<string, (float[] Data, int[] Shape)> tensors, int[] tokens)
    {
        if (tokens.Length == 0) throw new ArgumentException("At least one token is needed.", nameof(tokens));
        var weights = new TensorSet(tensors);
        var logits = modelType switch
        {
            "gpt2" => Gpt2Logits(config, weights, tokens),
            "llama" or "qwen2" => LlamaLogits(config, weights, tokens),
            "gpt_neox" => GptNeoxLogits(config, weights, tokens),
            _ => throw new NotSupportedException($"The reference has no model type '{modelType}'."),
        };
        return LogSoftmaxRows(logits);
    }

    public static double[,] LogProbs(TinyCheckpoint checkpoint, int[] tokens) =>
        LogProbs(checkpoint.ModelType, checkpoint.Config, checkpoint.Tensors, tokens);

    /// <summary>Reads a Hugging Face directory (config.json + F32 model.safetensors) and runs the model its model_type names.</summary>
    public static double[,] LogProbsFromDirectory(string directory, int[] tokens)
    {
        var (config, tensors) = HfCheckpointReader.Read(directory);
        return LogProbs(HfConfig.String(config, "model_type"), config, tensors, tokens);
    }

    public static double[,] Llama2cLogProbs(string binPath, int[] tokens) => Llama2cLogProbs(Llama2cCheckpoint.Load(binPath), tokens);

    // ---------------------------------------------------------------- GPT-2

    /// <summary>
    /// GPT2LMHeadModel: x = wte[token] + wpe[pos]; per block x += attn(ln_1 x), x += mlp(ln_2 x) with
    /// Conv1D weights ([in, out], y = x W + b), c_attn splitting into q | k | v; logits = ln_f(x) wteᵀ.
    /// </summary>
    static double[][] Gpt2Logits(IReadOnlyDictionary<string, object?> config, TensorSet w, int[] tokens)
    {
        int d = HfConfig.Int(config, "n_embd"), nLayers = HfConfig.Int(config, "n_layer"), nHeads = HfConfig.Int(config, "n_head");
        int vocab = HfConfig.Int(config, "vocab_size"), nPositions = HfConfig.Int(config, "n_positions");
        int inner = HfConfig.Int(config, "n_inner", 4 * d), dHead = d / nHeads;
        double eps = HfConfig.Double(config, "layer_norm_epsilon", 1e-5);
        var act = Activation(HfConfig.String(config, "activation_function", "gelu_new"));
        if (HfConfig.Bool(config, "scale_attn_by_inverse_layer_idx", false) || HfConfig.Bool(config, "reorder_and_upcast_attn", false))
            throw new NotSupportedException("The reference implements standard GPT-2 attention scaling only.");
        if (tokens.Length > nPositions) throw new ArgumentException($"{tokens.Length} tokens exceed n_positions {nPositions}.");
        CheckTokens(tokens, vocab);

        var wte = w.Get("transformer.wte.weight", vocab, d);
        var wpe = w.Get("transformer.wpe.weight", nPositions, d);
        int n = tokens.Length;
        var x = new double[n][];
        for (int t = 0; t < n; t++) x[t] = Add(Row(wte, tokens[t], d), Row(wpe, t, d));

        for (int l = 0; l < nLayers; l++)
        {
            string p = $"transformer.h.{l}.";
            var q = new double[n][];
            var k = new double[n][];
            var v = new double[n][];
            for (int t = 0; t < n; t++)
            {
                var a = LayerNorm(x[t], w.Get(p + "ln_1.weight", d), w.Get(p + "ln_1.bias", d), eps);
                var qkv = LinearInOut(w.Get(p + "attn.c_attn.weight", d, 3 * d), w.Get(p + "attn.c_attn.bias", 3 * d), a, 3 * d);
                q[t] = qkv[..d];
                k[t] = qkv[d..(2 * d)];
                v[t] = qkv[(2 * d)..];
            }
            var z = CausalAttention(q, k, v, nHeads, nHeads, dHead);
            for (int t = 0; t < n; t++)
            {
                x[t] = Add(x[t], LinearInOut(w.Get(p + "attn.c_proj.weight", d, d), w.Get(p + "attn.c_proj.bias", d), z[t], d));
                var m = LayerNorm(x[t], w.Get(p + "ln_2.weight", d), w.Get(p + "ln_2.bias", d), eps);
                var hidden = LinearInOut(w.Get(p + "mlp.c_fc.weight", d, inner), w.Get(p + "mlp.c_fc.bias", inner), m, inner);
                for (int i = 0; i < inner; i++) hidden[i] = act(hidden[i]);
                x[t] = Add(x[t], LinearInOut(w.Get(p + "mlp.c_proj.weight", inner, d), w.Get(p + "mlp.c_proj.bias", d), hidden, d));
            }
        }

        var unembed = HfConfig.Bool(config, "tie_word_embeddings", true) ? wte : w.Get("lm_head.weight", vocab, d);
        return x.Select(row => LinearOutIn(unembed, null,
            LayerNorm(row, w.Get("transformer.ln_f.weight", d), w.Get("transformer.ln_f.bias", d), eps), vocab)).ToArray();
    }

    // ---------------------------------------------------------------- Llama / Qwen2

    /// <summary>
    /// LlamaForCausalLM / Qwen2ForCausalLM: x = embed[token]; per block
    /// x += o(attn(rope(q(rms x)), rope(k(rms x)), v(rms x))) with GQA and rotate-half RoPE,
    /// x += down(silu(gate(rms x)) · up(rms x)); logits = lm_head(norm x). q/k/v/o biases are used when present (Qwen2).
    /// </summary>
    static double[][] LlamaLogits(IReadOnlyDictionary<string, object?> config, TensorSet w, int[] tokens)
    {
        int d = HfConfig.Int(config, "hidden_size"), nLayers = HfConfig.Int(config, "num_hidden_layers");
        int nHeads = HfConfig.Int(config, "num_attention_heads"), nKv = HfConfig.Int(config, "num_key_value_heads", nHeads);
        int dHead = HfConfig.Int(config, "head_dim", d / nHeads), inter = HfConfig.Int(config, "intermediate_size");
        int vocab = HfConfig.Int(config, "vocab_size");
        double eps = HfConfig.Double(config, "rms_norm_eps"), theta = HfConfig.RopeDouble(config, "rope_theta", "rope_theta", 10000);
        var act = Activation(HfConfig.String(config, "hidden_act", "silu"));
        bool tied = HfConfig.Bool(config, "tie_word_embeddings", false);
        HfConfig.RequireDefaultRope(config);
        CheckTokens(tokens, vocab);

        var embed = w.Get("model.embed_tokens.weight", vocab, d);
        var inverseFrequencies = InverseFrequencies(dHead, theta);
        int n = tokens.Length;
        var x = new double[n][];
        for (int t = 0; t < n; t++) x[t] = Row(embed, tokens[t], d);

        for (int l = 0; l < nLayers; l++)
        {
            string p = $"model.layers.{l}.";
            var q = new double[n][];
            var k = new double[n][];
            var v = new double[n][];
            for (int t = 0; t < n; t++)
            {
                var a = RmsNorm(x[t], w.Get(p + "input_layernorm.weight", d), eps);
                q[t] = LinearOutIn(w.Get(p + "self_attn.q_proj.weight", nHeads * dHead, d), w.GetOptional(p + "self_attn.q_proj.bias", nHeads * dHead), a, nHeads * dHead);
                k[t] = LinearOutIn(w.Get(p + "self_attn.k_proj.weight", nKv * dHead, d), w.GetOptional(p + "self_attn.k_proj.bias", nKv * dHead), a, nKv * dHead);
                v[t] = LinearOutIn(w.Get(p + "self_attn.v_proj.weight", nKv * dHead, d), w.GetOptional(p + "self_attn.v_proj.bias", nKv * dHead), a, nKv * dHead);
                for (int h = 0; h < nHeads; h++) RotateHalves(q[t], h * dHead, dHead, t, inverseFrequencies);
                for (int h = 0; h < nKv; h++) RotateHalves(k[t], h * dHead, dHead, t, inverseFrequencies);
            }
            var z = CausalAttention(q, k, v, nHeads, nKv, dHead);
            for (int t = 0; t < n; t++)
            {
                x[t] = Add(x[t], LinearOutIn(w.Get(p + "self_attn.o_proj.weight", d, nHeads * dHead), w.GetOptional(p + "self_attn.o_proj.bias", d), z[t], d));
                var m = RmsNorm(x[t], w.Get(p + "post_attention_layernorm.weight", d), eps);
                var gate = LinearOutIn(w.Get(p + "mlp.gate_proj.weight", inter, d), null, m, inter);
                var up = LinearOutIn(w.Get(p + "mlp.up_proj.weight", inter, d), null, m, inter);
                var hidden = new double[inter];
                for (int i = 0; i < inter; i++) hidden[i] = act(gate[i]) * up[i];
                x[t] = Add(x[t], LinearOutIn(w.Get(p + "mlp.down_proj.weight", d, inter), null, hidden, d));
            }
        }

        var unembed = tied ? embed : w.Get("lm_head.weight", vocab, d);
        return x.Select(row => LinearOutIn(unembed, null, RmsNorm(row, w.Get("model.norm.weight", d), eps), vocab)).ToArray();
    }

    // ---------------------------------------------------------------- GPT-NeoX

    /// <summary>
    /// GPTNeoXForCausalLM: x = embed_in[token]; query_key_value's output viewed as [heads, 3, d_head]
    /// (per head q, k, v); rotate-half RoPE on the first rotary_ndims = int(d_head · rotary_pct) dims with
    /// frequencies base^(−2j/rotary_ndims); parallel residual x + attn(ln1 x) + mlp(ln2 x) (or sequential);
    /// logits = embed_out(final_layer_norm x).
    /// </summary>
    static double[][] GptNeoxLogits(IReadOnlyDictionary<string, object?> config, TensorSet w, int[] tokens)
    {
        int d = HfConfig.Int(config, "hidden_size"), nLayers = HfConfig.Int(config, "num_hidden_layers");
        int nHeads = HfConfig.Int(config, "num_attention_heads"), inter = HfConfig.Int(config, "intermediate_size");
        int vocab = HfConfig.Int(config, "vocab_size"), dHead = d / nHeads;
        double eps = HfConfig.Double(config, "layer_norm_eps", 1e-5);
        double rotaryPct = HfConfig.RopeDouble(config, "partial_rotary_factor", "rotary_pct", 0.25);
        double theta = HfConfig.RopeDouble(config, "rope_theta", "rotary_emb_base", 10000);
        bool parallel = HfConfig.Bool(config, "use_parallel_residual", true);
        bool tied = HfConfig.Bool(config, "tie_word_embeddings", false);
        var act = Activation(HfConfig.String(config, "hidden_act", "gelu"));
        HfConfig.RequireDefaultRope(config);
        CheckTokens(tokens, vocab);

        int rotaryDim = (int)(dHead * rotaryPct);
        var inverseFrequencies = InverseFrequencies(rotaryDim, theta);
        var embed = w.Get("gpt_neox.embed_in.weight", vocab, d);
        int n = tokens.Length;
        var x = new double[n][];
        for (int t = 0; t < n; t++) x[t] = Row(embed, tokens[t], d);

        for (int l = 0; l < nLayers; l++)
        {
            string p = $"gpt_neox.layers.{l}.";
            var q = new double[n][];
            var k = new double[n][];
            var v = new double[n][];
            for (int t = 0; t < n; t++)
            {
                var a = LayerNorm(x[t], w.Get(p + "input_layernorm.weight", d), w.Get(p + "input_layernorm.bias", d), eps);
                var qkv = LinearOutIn(w.Get(p + "attention.query_key_value.weight", 3 * d, d), w.GetOptional(p + "attention.query_key_value.bias", 3 * d), a, 3 * d);
                q[t] = new double[d];
                k[t] = new double[d];
                v[t] = new double[d];
                for (int h = 0; h < nHeads; h++)
                {
                    int headStart = h * 3 * dHead;
                    Array.Copy(qkv, headStart, q[t], h * dHead, dHead);
                    Array.Copy(qkv, headStart + dHead, k[t], h * dHead, dHead);
                    Array.Copy(qkv, headStart + 2 * dHead, v[t], h * dHead, dHead);
                    RotateHalves(q[t], h * dHead, rotaryDim, t, inverseFrequencies);
                    RotateHalves(k[t], h * dHead, rotaryDim, t, inverseFrequencies);
                }
            }
            var z = CausalAttention(q, k, v, nHeads, nHeads, dHead);
            for (int t = 0; t < n; t++)
            {
                var attnOut = LinearOutIn(w.Get(p + "attention.dense.weight", d, d), w.GetOptional(p + "attention.dense.bias", d), z[t], d);
                double[] Mlp(double[] input)
                {
                    var m = LayerNorm(input, w.Get(p + "post_attention_layernorm.weight", d), w.Get(p + "post_attention_layernorm.bias", d), eps);
                    var hidden = LinearOutIn(w.Get(p + "mlp.dense_h_to_4h.weight", inter, d), w.Get(p + "mlp.dense_h_to_4h.bias", inter), m, inter);
                    for (int i = 0; i < inter; i++) hidden[i] = act(hidden[i]);
                    return LinearOutIn(w.Get(p + "mlp.dense_4h_to_h.weight", d, inter), w.Get(p + "mlp.dense_4h_to_h.bias", d), hidden, d);
                }
                if (parallel)
                    x[t] = Add(Add(x[t], attnOut), Mlp(x[t]));
                else
                {
                    x[t] = Add(x[t], attnOut);
                    x[t] = Add(x[t], Mlp(x[t]));
                }
            }
        }

        var unembed = tied ? embed : w.Get("embed_out.weight", vocab, d);
        return x.Select(row => LinearOutIn(unembed, null,
            LayerNorm(row, w.Get("gpt_neox.final_layer_norm.weight", d), w.Get("gpt_neox.final_layer_norm.bias", d), eps), vocab)).ToArray();
    }

    // ---------------------------------------------------------------- llama2.c

    /// <summary>
    /// The Llama forward pass on a llama2.c checkpoint as stored, following llama2.c's run.c:
    /// RoPE rotates adjacent pairs (2j, 2j+1) of each head by pos · 10000^(−2j/head_size).
    /// </summary>
    public static double[,] Llama2cLogProbs(Llama2cCheckpoint c, int[] tokens)
    {
        if (tokens.Length == 0) throw new ArgumentException("At least one token is needed.", nameof(tokens));
        CheckTokens(tokens, c.VocabSize);
        int d = c.Dim, dHead = c.HeadSize, kvDim = c.KvDim, hidden = c.HiddenDim, n = tokens.Length;
        double eps = Llama2cCheckpoint.RmsNormEps;
        var inverseFrequencies = InverseFrequencies(dHead, Llama2cCheckpoint.RopeTheta);

        var x = new double[n][];
        for (int t = 0; t < n; t++) x[t] = Row(c.TokenEmbedding, tokens[t], d);

        for (int l = 0; l < c.NLayers; l++)
        {
            var q = new double[n][];
            var k = new double[n][];
            var v = new double[n][];
            for (int t = 0; t < n; t++)
            {
                var a = RmsNorm(x[t], c.RmsAttention[l], eps);
                q[t] = LinearOutIn(c.Wq[l], null, a, d);
                k[t] = LinearOutIn(c.Wk[l], null, a, kvDim);
                v[t] = LinearOutIn(c.Wv[l], null, a, kvDim);
                for (int h = 0; h < c.NHeads; h++) RotatePairs(q[t], h * dHead, dHead, t, inverseFrequencies);
                for (int h = 0; h < c.NKvHeads; h++) RotatePairs(k[t], h * dHead, dHead, t, inverseFrequencies);
            }
            var z = CausalAttention(q, k, v, c.NHeads, c.NKvHeads, dHead);
            for (int t = 0; t < n; t++)
            {
                x[t] = Add(x[t], LinearOutIn(c.Wo[l], null, z[t], d));
                var m = RmsNorm(x[t], c.RmsFfn[l], eps);
                var gate = LinearOutIn(c.W1[l], null, m, hidden);
                var up = LinearOutIn(c.W3[l], null, m, hidden);
                var h = new double[hidden];
                for (int i = 0; i < hidden; i++) h[i] = Silu(gate[i]) * up[i];
                x[t] = Add(x[t], LinearOutIn(c.W2[l], null, h, d));
            }
        }

        return LogSoftmaxRows(x.Select(row => LinearOutIn(c.Classifier, null, RmsNorm(row, c.RmsFinal, eps), c.VocabSize)).ToArray());
    }

    static void CheckTokens(int[] tokens, int vocab)
    {
        foreach (var token in tokens)
            if (token < 0 || token >= vocab) throw new ArgumentOutOfRangeException(nameof(tokens), $"Token {token} is outside the vocabulary [0, {vocab}).");
    }
}
