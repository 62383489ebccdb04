namespace Glassbox.Tokenization;

/// <summary>
/// Turns text into token ids and back, and names each token for display. One interface over
/// llama2.c, SentencePiece, Hugging Face and GPT-2 vocabularies so that techniques and surfaces
/// never care which kind a model came with.
/// </summary>
public interface ITokenizer
{
    /// <summary>Number of ids; every id in <c>[0, VocabSize)</c> has a <see cref="TokenText"/>.</summary>
    int VocabSize { get; }

    /// <summary>Beginning-of-sequence id, when the vocabulary has one.</summary>
    int? BosId { get; }

    /// <summary>End-of-sequence id, when the vocabulary has one.</summary>
    int? EosId { get; }

    /// <summary>
    /// Whether <see cref="Encode"/> prepends <see cref="BosId"/> by default, following the
    /// convention the model was trained with (llama2.c and Llama: yes; GPT-2: no).
    /// </summary>
    bool AddsBos { get; }

    /// <summary>
    /// Encodes <paramref name="text"/>. With <paramref name="addBos"/> the tokenizer follows its own
    /// convention (<see cref="AddsBos"/>); passing false suppresses the BOS it would add. It never
    /// adds a BOS that the convention does not, so GPT-2 prompts stay as GPT-2 saw them in training.
    /// </summary>
    int[] Encode(string text, bool addBos = true);

    /// <summary>
    /// Decodes ids to text as the model's own tooling would print them. Special tokens (BOS, EOS,
    /// padding and other control tokens) decode to nothing, so <c>Decode(Encode(s))</c> gives back <c>s</c>.
    /// </summary>
    string Decode(IEnumerable<int> ids);

    /// <summary>The raw vocabulary entry (e.g. <c>Ġthe</c>, <c>▁the</c>, <c>&lt;0x0A&gt;</c>).</summary>
    string TokenText(int id);

    /// <summary>
    /// The token as a person should see it: word-boundary markers shown as spaces, byte tokens as
    /// their character when printable or whitespace and as <c>\xNN</c> otherwise.
    /// </summary>
    string Display(int id);

    /// <summary>The id of a raw vocabulary entry, or null when there is none.</summary>
    int? TokenToId(string piece);
}
