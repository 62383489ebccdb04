namespace Glassbox.Tests.Reference;

/// <summary>
/// The reference on the real stories260K model: the llama2.c forward (pairs RoPE) reproduces llama2.c's
/// greedy output, and the HF conversion (halves RoPE after the q/k permutation) gives the same numbers.
/// </summary>
public class Llama2cReferenceTests
{
    const string ExpectedStart = "Once upon a time, there was a little girl named Lily.";

    [SharedFact]
    public void Converted_hf_checkpoint_matches_the_llama2c_forward_to_1e_9()
    {
        var checkpoint = Llama2cCheckpoint.Load(SharedModels.Stories260K);
        var tokens = new[] { Llama2cVocabulary.Bos }.Concat(TinyCheckpoints.RandomTokens(3, 23, checkpoint.VocabSize)).ToArray();
        var expected = ReferenceForward.Llama2cLogProbs(checkpoint, tokens);

        using var dir = new TempDirectory();
        Llama2cToHf.Write(SharedModels.Stories260K, dir.Path);
        var actual = ReferenceForward.LogProbsFromDirectory(dir.Path, tokens);
        Assert.True(MaxAbsDifference(expected, actual) < 1e-9, $"max |Δ log p| = {MaxAbsDifference(expected, actual)}");

        // The comparison can tell the layouts apart: without the permutation the numbers disagree.
        var (config, unpermuted) = Llama2cToHf.Convert(checkpoint, permuteRotary: false);
        var wrong = ReferenceForward.LogProbs("llama", config, unpermuted, tokens);
        Assert.True(MaxAbsDifference(expected, wrong) > 1e-2, "the unpermuted conversion should not match");
    }

    [SharedFact]
    public void Converted_hf_directory_has_llama_config_and_untied_head()
    {
        using var dir = new TempDirectory();
        Llama2cToHf.Write(SharedModels.Stories260K, dir.Path);
        var (config, tensors) = HfCheckpointReader.Read(dir.Path);
        Assert.Equal("llama", config["model_type"]);
        Assert.Equal(64L, config["hidden_size"]);
        Assert.Equal(172L, config["intermediate_size"]);
        Assert.Equal(5L, config["num_hidden_layers"]);
        Assert.Equal(8L, config["num_attention_heads"]);
        Assert.Equal(4L, config["num_key_value_heads"]);
        Assert.Equal(512L, config["max_position_embeddings"]);
        Assert.Equal(false, config["tie_word_embeddings"]);
        Assert.Equal(1e-5, HfConfig.Double(config, "rms_norm_eps"));
        Assert.Equal(10000.0, HfConfig.Double(config, "rope_theta"));
        Assert.Equal([512, 64], tensors["lm_head.weight"].Shape);
        Assert.Equal(tensors["model.embed_tokens.weight"].Data, tensors["lm_head.weight"].Data); // shared classifier
        Assert.Equal([32, 64], tensors["model.layers.4.self_attn.k_proj.weight"].Shape);
        Assert.Equal([172, 64], tensors["model.layers.0.mlp.gate_proj.weight"].Shape);
        Assert.Equal([64, 172], tensors["model.layers.0.mlp.down_proj.weight"].Shape);
        Assert.Equal(3 + 5 * 9, tensors.Count);
    }

    [SharedFact]
    public void Greedy_decoding_reproduces_llama2c()
    {
        var checkpoint = Llama2cCheckpoint.Load(SharedModels.Stories260K);
        var vocabulary = Llama2cVocabulary.Load(SharedModels.Stories260KTokenizer, checkpoint.VocabSize);
        var tokens = new List<int> { Llama2cVocabulary.Bos };
        for (int step = 0; step < 30; step++)
        {
            var logProbs = ReferenceForward.Llama2cLogProbs(checkpoint, tokens.ToArray());
            int last = tokens.Count - 1, best = 0;
            for (int i = 1; i < checkpoint.VocabSize; i++)
                if (logProbs[last, i] > logProbs[last, best]) best = i;
            tokens.Add(best);
        }
        var text = vocabulary.Decode(tokens);
        Assert.StartsWith(ExpectedStart, text);
    }

    [Fact]
    public void Pairs_to_halves_moves_row_2j_to_j_and_2j_plus_1_to_j_plus_half()
    {
        // Two heads of size 4, one input column: rows are labelled by their llama2.c index.
        float[] rows = [0, 1, 2, 3, 10, 11, 12, 13];
        Assert.Equal([0f, 2, 1, 3, 10, 12, 11, 13], Llama2cToHf.PairsToHalves(rows, heads: 2, headSize: 4, inDim: 1));
    }

    static double MaxAbsDifference(double[,] a, double[,] b)
    {
        double max = 0;
        for (int t = 0; t < a.GetLength(0); t++)
            for (int i = 0; i < a.GetLength(1); i++) max = Math.Max(max, Math.Abs(a[t, i] - b[t, i]));
        return max;
    }
}
