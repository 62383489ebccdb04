using Glassbox.Datasets;
using Glassbox.Tokenization;

namespace Glassbox.Tests.Datasets;

/// <summary>The two tokenizers every generator is tested with: the zoo's word-level one and GPT-2's.</summary>
static class DatasetTokenizers
{
    public static readonly WordLevelTokenizer Zoo = ZooVocabulary.CreateTokenizer();
    public static readonly Gpt2Tokenizer Gpt2 = new();

    public static ITokenizer Get(string name) => name switch { "zoo" => Zoo, "gpt2" => Gpt2, _ => throw new ArgumentException(name) };

    /// <summary>The positions where two equally long id sequences differ.</summary>
    public static int[] Differences(int[] a, int[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return Enumerable.Range(0, a.Length).Where(i => a[i] != b[i]).ToArray();
    }
}
