namespace Glassbox.Tokenization;

/// <summary>
/// A tokenizer for a model whose embedding has more rows than the tokenizer has tokens (Phi-2: 51,200 rows for 50,295
/// tokens; Qwen pads to a multiple of 128): the extra ids are real outputs of the model with no text, shown and decoded
/// as <c>&lt;unused N&gt;</c> instead of failing when the model predicts one.
/// </summary>
public sealed class PaddedVocabulary(ITokenizer inner, int vocabSize) : ITokenizer
{
    public ITokenizer Inner { get; } = inner;

    /// <summary>The tokenizer itself, seen through a padding wrapper (for callers that ask which kind it is).</summary>
    public static ITokenizer Unwrap(ITokenizer tokenizer) => tokenizer is PaddedVocabulary p ? p.Inner : tokenizer;

    public int VocabSize { get; } = vocabSize;
    public int? BosId => Inner.BosId;
    public int? EosId => Inner.EosId;
    public bool AddsBos => Inner.AddsBos;

    public int[] Encode(string text, bool addBos = true) => Inner.Encode(text, addBos);

    public string Decode(IEnumerable<int> ids)
    {
        var text = new System.Text.StringBuilder();
        var run = new List<int>();
        foreach (int id in ids)
        {
            if (id < Inner.VocabSize) { run.Add(id); continue; }
            text.Append(Inner.Decode(run)).Append(Unused(id));
            run.Clear();
        }
        return text.Append(Inner.Decode(run)).ToString();
    }

    public string TokenText(int id) => id < Inner.VocabSize ? Inner.TokenText(id) : Unused(id);

    public string Display(int id) => id < Inner.VocabSize ? Inner.Display(id) : Unused(id);

    public int? TokenToId(string piece) => Inner.TokenToId(piece);

    string Unused(int id) => id >= 0 && id < VocabSize ? $"<unused {id}>" : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id outside the vocabulary of {VocabSize}.");
}
