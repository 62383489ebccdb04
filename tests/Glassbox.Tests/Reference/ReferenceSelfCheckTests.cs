using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Glassbox.Tests.Reference;

/// <summary>Tests of the reference implementation itself, so that library tests can trust it.</summary>
public class ReferenceSelfCheckTests
{
    [Theory]
    [InlineData(0.001, 0.0011283787909692365)]
    [InlineData(0.1, 0.1124629160182849)]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(1.5, 0.9661051464753108)]
    [InlineData(2.0, 0.9953222650189527)]
    [InlineData(2.5, 0.999593047982555)]
    [InlineData(2.9, 0.9999589021219005)]
    [InlineData(3.0, 0.9999779095030014)]
    [InlineData(3.5, 0.9999992569016276)]
    [InlineData(4.0, 0.9999999845827421)]
    [InlineData(5.0, 0.9999999999984626)]
    [InlineData(6.0, 1.0)]
    public void Erf_matches_known_values_to_1e_15(double x, double expected)
    {
        Assert.Equal(expected, ReferenceMath.Erf(x), 1e-15);
        Assert.Equal(-expected, ReferenceMath.Erf(-x), 1e-15);
    }

    [Fact]
    public void Erf_is_continuous_where_its_two_methods_meet()
    {
        double below = ReferenceMath.Erf(Math.BitDecrement(3.0)), at = ReferenceMath.Erf(3.0);
        Assert.True(Math.Abs(at - below) < 1e-15, $"erf jumps by {at - below} at 3");
        Assert.Equal(0.0, ReferenceMath.Erf(0.0));
    }

    [Fact]
    public void Gelu_variants_match_their_definitions()
    {
        // Φ(1) = 0.8413447460685429; gelu(1) = Φ(1), gelu(−1) = −(1 − Φ(1)).
        Assert.Equal(0.8413447460685429, ReferenceMath.Gelu(1.0), 1e-15);
        Assert.Equal(-0.15865525393145707, ReferenceMath.Gelu(-1.0), 1e-15);
        Assert.Equal(0.5 * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * 1.044715)), ReferenceMath.GeluNew(1.0), 1e-15);
        Assert.Equal(1 / (1 + Math.Exp(-1.0)), ReferenceMath.Silu(1.0), 1e-15);
    }

    [Fact]
    public void Safetensors_file_has_the_documented_layout()
    {
        using var dir = new TempDirectory();
        var tensors = new Dictionary<string, (float[] Data, int[] Shape)>
        {
            ["b.weight"] = ([1f, -2f, 3.5f, 4f, 5f, 6f], [2, 3]),
            ["a.bias"] = ([0.25f], [1]),
        };
        var path = dir.Combine("model.safetensors");
        HfCheckpointWriter.WriteSafetensors(path, tensors);

        var bytes = File.ReadAllBytes(path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, headerLength % 8);
        Assert.Equal(8 + (long)headerLength + 4 * 7, bytes.Length);

        using var header = JsonDocument.Parse(HfCheckpointWriter.ReadHeaderText(path));
        var a = header.RootElement.GetProperty("a.bias");
        var b = header.RootElement.GetProperty("b.weight");
        Assert.Equal("F32", a.GetProperty("dtype").GetString());
        Assert.Equal([1], a.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([0L, 4L], a.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal([2, 3], b.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([4L, 28L], b.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal("pt", header.RootElement.GetProperty("__metadata__").GetProperty("format").GetString());
        // Raw little-endian float32 after the header: a.bias first, then b.weight.
        int data = 8 + (int)headerLength;
        Assert.Equal(0.25f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(data)));
        Assert.Equal(3.5f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(data + 4 + 2 * 4)));

        var back = HfCheckpointReader.ReadSafetensors(path);
        Assert.Equal(tensors.Keys.Order(), back.Keys.Order());
        foreach (var (name, (values, shape)) in tensors)
        {
            Assert.Equal(shape, back[name].Shape);
            Assert.Equal(values, back[name].Data);
        }
    }

    [Theory]
    [MemberData(nameof(TinyCheckpoints.Names), MemberType = typeof(TinyCheckpoints))]
    public void Tiny_checkpoint_survives_a_round_trip_through_a_directory(string name)
    {
        var checkpoint = TinyCheckpoints.ByName(name);
        using var dir = new TempDirectory();
        checkpoint.WriteTo(dir.Path);
        var config = HfCheckpointReader.ReadConfig(dir.Path);
        Assert.Equal(checkpoint.ModelType, config["model_type"]);
        Assert.Equal(checkpoint.Config.Keys.Order(), config.Keys.Order());

        var tokens = TinyCheckpoints.RandomTokens(7, 12, checkpoint.VocabSize);
        var fromMemory = checkpoint.LogProbs(tokens);
        var fromDisk = ReferenceForward.LogProbsFromDirectory(dir.Path, tokens);
        Assert.Equal(fromMemory, fromDisk); // float32 values round-trip exactly, so the results are identical
    }

    [Theory]
    [MemberData(nameof(TinyCheckpoints.Names), MemberType = typeof(TinyCheckpoints))]
    public void Tiny_checkpoint_rows_are_probability_distributions(string name)
    {
        var checkpoint = TinyCheckpoints.ByName(name);
        var tokens = TinyCheckpoints.RandomTokens(11, checkpoint.ContextLength, checkpoint.VocabSize);
        var logProbs = checkpoint.LogProbs(tokens);
        Assert.Equal(tokens.Length, logProbs.GetLength(0));
        Assert.Equal(checkpoint.VocabSize, logProbs.GetLength(1));
        for (int t = 0; t < tokens.Length; t++)
        {
            double sum = 0;
            for (int i = 0; i < checkpoint.VocabSize; i++)
            {
                Assert.True(logProbs[t, i] <= 0 && double.IsFinite(logProbs[t, i]));
                sum += Math.Exp(logProbs[t, i]);
            }
            Assert.Equal(1.0, sum, 1e-12);
        }
    }

    [Theory]
    [MemberData(nameof(TinyCheckpoints.Names), MemberType = typeof(TinyCheckpoints))]
    public void Tiny_checkpoint_is_causal(string name)
    {
        var checkpoint = TinyCheckpoints.ByName(name);
        var tokens = TinyCheckpoints.RandomTokens(13, checkpoint.ContextLength, checkpoint.VocabSize);
        var original = checkpoint.LogProbs(tokens);
        foreach (int changed in new[] { 5, tokens.Length - 1 })
        {
            var edited = (int[])tokens.Clone();
            edited[changed] = (edited[changed] + 1) % checkpoint.VocabSize;
            var after = checkpoint.LogProbs(edited);
            for (int t = 0; t < tokens.Length; t++)
            {
                double diff = MaxAbsRowDifference(original, after, t);
                if (t < changed) Assert.True(diff == 0, $"row {t} moved by {diff} when token {changed} changed");
                else Assert.True(diff > 1e-6, $"row {t} did not respond to token {changed}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(TinyCheckpoints.Names), MemberType = typeof(TinyCheckpoints))]
    public void Tiny_checkpoint_predictions_are_far_from_uniform(string name)
    {
        // Library tests compare against these numbers; they only mean something if the model is not flat.
        var checkpoint = TinyCheckpoints.ByName(name);
        var tokens = TinyCheckpoints.RandomTokens(17, checkpoint.ContextLength, checkpoint.VocabSize);
        var logProbs = checkpoint.LogProbs(tokens);
        double uniform = -Math.Log(checkpoint.VocabSize), meanSpread = 0;
        for (int t = 0; t < tokens.Length; t++)
        {
            double max = double.MinValue, min = double.MaxValue;
            for (int i = 0; i < checkpoint.VocabSize; i++) { max = Math.Max(max, logProbs[t, i]); min = Math.Min(min, logProbs[t, i]); }
            Assert.True(max > uniform + 0.5, $"row {t} is nearly uniform (max log-prob {max:F3}, uniform {uniform:F3})");
            meanSpread += (max - min) / tokens.Length;
        }
        Assert.True(meanSpread > 3, $"mean spread of log-probs is only {meanSpread:F3}");
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt_neox")]
    public void Transformers_v5_rope_parameters_mean_the_same_as_the_legacy_keys(string name)
    {
        var checkpoint = TinyCheckpoints.ByName(name);
        var config = new Dictionary<string, object?>(checkpoint.Config);
        (string key, string legacy)[] moves = name == "llama"
            ? [("rope_theta", "rope_theta")]
            : [("rope_theta", "rotary_emb_base"), ("partial_rotary_factor", "rotary_pct")];
        var rope = new Dictionary<string, object?> { ["rope_type"] = "default" };
        foreach (var (key, legacy) in moves) { rope[key] = config[legacy]; config.Remove(legacy); }
        config.Remove("rope_scaling");
        config["rope_parameters"] = rope;

        var tokens = TinyCheckpoints.RandomTokens(19, 10, checkpoint.VocabSize);
        Assert.Equal(checkpoint.LogProbs(tokens), ReferenceForward.LogProbs(checkpoint.ModelType, config, checkpoint.Tensors, tokens));
    }

    [Fact]
    public void Config_may_be_given_as_a_json_object()
    {
        var checkpoint = TinyCheckpoints.ByName("qwen2-tied");
        var json = (JsonObject)JsonNode.Parse(JsonSerializer.Serialize(checkpoint.Config))!;
        var tokens = TinyCheckpoints.RandomTokens(23, 10, checkpoint.VocabSize);
        Assert.Equal(checkpoint.LogProbs(tokens), ReferenceForward.LogProbs("qwen2", HfConfig.FromJson(json), checkpoint.Tensors, tokens));
    }

    [Fact]
    public void Tiny_checkpoints_are_deterministic_and_seeded()
    {
        var a = TinyCheckpoints.Llama();
        var b = TinyCheckpoints.Llama();
        var c = TinyCheckpoints.Llama(seed: 99);
        Assert.Equal(a.Tensors["model.layers.1.mlp.up_proj.weight"].Data, b.Tensors["model.layers.1.mlp.up_proj.weight"].Data);
        Assert.NotEqual(a.Tensors["model.layers.1.mlp.up_proj.weight"].Data, c.Tensors["model.layers.1.mlp.up_proj.weight"].Data);
    }

    [Fact]
    public void Tiny_checkpoints_have_the_hugging_face_tensor_names()
    {
        Assert.DoesNotContain("lm_head.weight", TinyCheckpoints.Gpt2().Tensors.Keys);
        Assert.Equal([24, 72], TinyCheckpoints.Gpt2().Tensors["transformer.h.0.attn.c_attn.weight"].Shape);
        Assert.Equal([16, 32], TinyCheckpoints.Llama().Tensors["model.layers.0.self_attn.k_proj.weight"].Shape);
        Assert.Contains("lm_head.weight", TinyCheckpoints.Llama().Tensors.Keys);
        Assert.Equal([16], TinyCheckpoints.Qwen2().Tensors["model.layers.1.self_attn.v_proj.bias"].Shape);
        Assert.DoesNotContain("model.layers.0.self_attn.o_proj.bias", TinyCheckpoints.Qwen2().Tensors.Keys);
        Assert.DoesNotContain("lm_head.weight", TinyCheckpoints.ByName("qwen2-tied").Tensors.Keys);
        Assert.Equal([96, 32], TinyCheckpoints.GptNeox().Tensors["gpt_neox.layers.1.attention.query_key_value.weight"].Shape);
        Assert.Contains("embed_out.weight", TinyCheckpoints.GptNeox().Tensors.Keys);
        foreach (var name in TinyCheckpoints.AllNames)
            Assert.All(TinyCheckpoints.ByName(name).Tensors, p => Assert.Equal(p.Value.Shape.Aggregate(1, (x, y) => x * y), p.Value.Data.Length));
    }

    static double MaxAbsRowDifference(double[,] a, double[,] b, int row)
    {
        double max = 0;
        for (int i = 0; i < a.GetLength(1); i++) max = Math.Max(max, Math.Abs(a[row, i] - b[row, i]));
        return max;
    }
}
