using System.Text.Json;
using Glassbox.Datasets;
using Glassbox.Tokenization;

namespace Glassbox.Tests.Families;

/// <summary>
/// The tiny random checkpoints of <c>../shared/reference/hf</c>, one per Hugging Face family, each with reference.json:
/// log-probabilities from an independent float64 implementation (litgpt), read in place (never copied).
/// </summary>
public static class HfReferences
{
    public static readonly string[] Families =
    [
        "falcon", "falcon_new_arch", "gemma", "gemma2", "gemma3", "gpt_neox", "llama", "llama3", "mistral", "mixtral",
        "olmo", "olmo2", "phi", "phi3", "qwen2", "qwen3", "qwen3_moe", "smollm2", "stablelm",
    ];

    public static TheoryData<string> Names => new(Families);

    public static string Dir(string family) => SharedModels.Path("reference", "hf", family);

    /// <summary>
    /// Writes a word-level tokenizer.json into <paramref name="dir"/> for the reference models (which ship none): the zoo
    /// vocabulary (239 words, so the IOI, greater-than and induction tasks run) padded with filler words to the model's
    /// 256 ids. Returns its path, for <c>--tokenizer</c>.
    /// </summary>
    public static string ZooTokenizer(string dir, int vocabSize = 256)
    {
        var words = ZooVocabulary.Words.Concat(Enumerable.Range(0, vocabSize - ZooVocabulary.Words.Count).Select(i => $"filler{i}")).ToArray();
        var path = Path.Combine(dir, "tokenizer.json");
        WordLevelTokenizer.FromVocabulary(words, ZooVocabulary.SpecialTokens, ZooVocabulary.Unk, ZooVocabulary.Bos, ZooVocabulary.Eos).Save(path);
        return path;
    }

    public sealed record Case(int[] Tokens, double[] TokenLogProbs, float[] LogProbs, int[] Shape, int[] ArgMax);

    public static IReadOnlyList<Case> Cases(string family)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir(family), "reference.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c =>
        {
            var lp = c.GetProperty("logprobs");
            var bytes = Convert.FromBase64String(lp.GetProperty("data").GetString()!);
            var floats = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, floats, 0, bytes.Length);
            return new Case(
                c.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray(),
                c.TryGetProperty("token_logprobs", out var tl) ? tl.EnumerateArray().Select(t => t.GetDouble()).ToArray() : [],
                floats,
                lp.GetProperty("shape").EnumerateArray().Select(t => t.GetInt32()).ToArray(),
                c.GetProperty("argmax").EnumerateArray().Select(t => t.GetInt32()).ToArray());
        }).ToArray();
    }
}

/// <summary>A theory over <c>../shared</c> data; skipped, saying why, where it is absent.</summary>
public sealed class SharedTheoryAttribute : TheoryAttribute
{
    public SharedTheoryAttribute()
    {
        if (SharedModels.SharedDir == null) Skip = "../shared is absent (set GLASSBOX_SHARED to run this test)";
    }
}
