namespace Glassbox.Tests.Reference;

/// <summary>
/// Converts a llama2.c legacy checkpoint into a Hugging Face Llama checkpoint (LlamaForCausalLM names,
/// nn.Linear [out, in] weights, rotate-half RoPE), with lm_head written explicitly.
/// </summary>
/// <remarks>
/// llama2.c rotates adjacent pairs (2j, 2j+1) of each q/k head; HF Llama rotates (j, j + d_head/2).
/// So within each head, llama2.c row 2j becomes HF row j and row 2j+1 becomes HF row j + d_head/2.
/// This is the same map as the <c>permute</c> in transformers' convert_llama_weights_to_hf.py
/// (view [heads, d_head/2, 2, in] → transpose(1, 2)), which takes Meta's pairs layout to HF's halves.
/// The reference self-check tests prove the direction: both forward passes agree to 1e-9.
/// </remarks>
public static class Llama2cToHf
{
    /// <summary>Reads <paramref name="binPath"/> and writes the HF directory. Returns the directory.</summary>
    public static string Write(string binPath, string directory)
    {
        var (config, tensors) = Convert(Llama2cCheckpoint.Load(binPath));
        return HfCheckpointWriter.Write(directory, config, tensors);
    }

    /// <param name="permuteRotary">False skips the q/k permutation; only for tests that show it matters.</param>
    public static (Dictionary<string, object?> Config, Dictionary<string, (float[] Data, int[] Shape)> Tensors) Convert(
        Llama2cCheckpoint c, bool permuteRotary = true)
    {
        int d = c.Dim, kv = c.KvDim, hidden = c.HiddenDim;
        float[] Rotary(float[] w, int heads) => permuteRotary ? PairsToHalves(w, heads, c.HeadSize, d) : w;

        var tensors = new Dictionary<string, (float[] Data, int[] Shape)>
        {
            ["model.embed_tokens.weight"] = (c.TokenEmbedding, [c.VocabSize, d]),
            ["model.norm.weight"] = (c.RmsFinal, [d]),
            ["lm_head.weight"] = ((float[])c.Classifier.Clone(), [c.VocabSize, d]),
        };
        for (int l = 0; l < c.NLayers; l++)
        {
            string p = $"model.layers.{l}.";
            tensors[p + "input_layernorm.weight"] = (c.RmsAttention[l], [d]);
            tensors[p + "self_attn.q_proj.weight"] = (Rotary(c.Wq[l], c.NHeads), [d, d]);
            tensors[p + "self_attn.k_proj.weight"] = (Rotary(c.Wk[l], c.NKvHeads), [kv, d]);
            tensors[p + "self_attn.v_proj.weight"] = (c.Wv[l], [kv, d]);
            tensors[p + "self_attn.o_proj.weight"] = (c.Wo[l], [d, d]);
            tensors[p + "post_attention_layernorm.weight"] = (c.RmsFfn[l], [d]);
            tensors[p + "mlp.gate_proj.weight"] = (c.W1[l], [hidden, d]);
            tensors[p + "mlp.up_proj.weight"] = (c.W3[l], [hidden, d]);
            tensors[p + "mlp.down_proj.weight"] = (c.W2[l], [d, hidden]);
        }

        var config = new Dictionary<string, object?>
        {
            ["architectures"] = new[] { "LlamaForCausalLM" },
            ["model_type"] = "llama",
            ["hidden_size"] = d,
            ["intermediate_size"] = hidden,
            ["num_hidden_layers"] = c.NLayers,
            ["num_attention_heads"] = c.NHeads,
            ["num_key_value_heads"] = c.NKvHeads,
            ["head_dim"] = c.HeadSize,
            ["max_position_embeddings"] = c.SeqLen,
            ["vocab_size"] = c.VocabSize,
            ["rms_norm_eps"] = Llama2cCheckpoint.RmsNormEps,
            ["rope_theta"] = Llama2cCheckpoint.RopeTheta,
            ["rope_scaling"] = null,
            ["hidden_act"] = "silu",
            ["attention_bias"] = false,
            ["mlp_bias"] = false,
            ["tie_word_embeddings"] = false,
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
            ["torch_dtype"] = "float32",
        };
        return (config, tensors);
    }

    /// <summary>
    /// Reorders the rows of a [heads·headSize, inDim] q or k weight from llama2.c's pairs layout to HF's
    /// halves layout: in each head, row 2j → row j and row 2j+1 → row j + headSize/2.
    /// </summary>
    public static float[] PairsToHalves(float[] w, int heads, int headSize, int inDim)
    {
        var result = new float[w.Length];
        int half = headSize / 2;
        for (int h = 0; h < heads; h++)
            for (int j = 0; j < half; j++)
            {
                Array.Copy(w, (h * headSize + 2 * j) * inDim, result, (h * headSize + j) * inDim, inDim);
                Array.Copy(w, (h * headSize + 2 * j + 1) * inDim, result, (h * headSize + half + j) * inDim, inDim);
            }
        return result;
    }
}
