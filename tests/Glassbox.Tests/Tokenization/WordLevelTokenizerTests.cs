using Glassbox.Tokenization;

namespace Glassbox.Tests.Tokenization;

public class WordLevelTokenizerTests
{
    static readonly string[] Corpus =
    [
        "the cat sat on the mat .",
        "the dog sat on the log .",
        "a cat and a dog met on the mat .",
    ];

    static readonly string[] Probes =
    [
        "the cat sat on the mat .", "the  bird\tsat.\n on   the log", "", "   ", "unknown words only",
        "the cat<s>sat", "</s> the dog </s>", "Hello, world! It's 3.14 -- ok?", "café naïve 日本 🙂", "cat,dog;mat",
    ];

    [Fact]
    public void Maps_known_words_and_sends_the_rest_to_unknown()
    {
        var tok = new WordLevelTokenizer(["the", "cat", "sat"], bosToken: "<s>", eosToken: "</s>");
        Assert.Equal(6, tok.VocabSize);
        Assert.Equal((int?)1, tok.BosId);
        Assert.Equal((int?)2, tok.EosId);
        Assert.True(tok.AddsBos);
        Assert.Equal([1, 3, 4, 0, 5], tok.Encode("the cat  dog\nsat"));
        Assert.Equal([3, 4, 2], tok.Encode("the cat</s>", addBos: false));
        Assert.Equal("the cat sat", tok.Decode(tok.Encode("the\tcat   sat")));
        Assert.Equal("the sat", tok.Decode(tok.Encode("the dog sat")));
        Assert.Equal("[UNK]", tok.TokenText(0));
        Assert.Equal((int?)4, tok.TokenToId("cat"));
        Assert.Equal("cat", tok.Display(4));
    }

    [Fact]
    public void Whitespace_pre_tokenizer_separates_punctuation()
    {
        var tok = new WordLevelTokenizer(["Hello", ",", "world", "!", "'"], preTokenizer: WordLevelPreTokenizer.Whitespace);
        Assert.False(tok.AddsBos);
        Assert.Null(tok.BosId);
        Assert.Equal([1, 2, 3, 4], tok.Encode("Hello, world!"));
        Assert.Equal([3, 5, 0], tok.Encode("world'café"));
    }

    [Fact]
    public void Training_keeps_the_most_frequent_words()
    {
        var tok = WordLevelTokenizer.Train(Corpus, maxVocabSize: 6, bosToken: "<s>");
        // "the" (5), then "." and "on" (3 each, in ordinal order), then "a" first of the words seen twice.
        Assert.Equal(["[UNK]", "<s>", "the", ".", "on", "a"], Enumerable.Range(0, tok.VocabSize).Select(tok.TokenText));
        // Seen at least twice: the . on a cat dog mat sat, plus [UNK].
        Assert.Equal(9, WordLevelTokenizer.Train(Corpus, maxVocabSize: 100, minFrequency: 2).VocabSize);
    }

    [Theory]
    [InlineData(WordLevelPreTokenizer.WhitespaceSplit, true)]
    [InlineData(WordLevelPreTokenizer.WhitespaceSplit, false)]
    [InlineData(WordLevelPreTokenizer.Whitespace, true)]
    [InlineData(WordLevelPreTokenizer.Whitespace, false)]
    public void Saved_tokenizer_json_reads_back_the_same_here_and_in_hugging_face_tokenizers(WordLevelPreTokenizer pre, bool withBos)
    {
        using var dir = new TempDirectory();
        var words = Corpus.Concat(["Hello", ",", "world", "!", "It's", "It", "s", "3", "14", "café", "日本", "🙂", "'", "-", "--"]);
        var tok = WordLevelTokenizer.Train(words, maxVocabSize: 200, bosToken: withBos ? "<s>" : null, eosToken: "</s>", preTokenizer: pre);
        string path = dir.File("tokenizer.json");
        tok.Save(path);

        var reloaded = WordLevelTokenizer.Load(path);
        using var hf = HfTokenizer.Load(path);
        var loaded = TokenizerLoader.Load(path);
        Assert.IsType<WordLevelTokenizer>(loaded);
        foreach (var other in new ITokenizer[] { reloaded, hf, loaded })
        {
            Assert.Equal(tok.VocabSize, other.VocabSize);
            Assert.Equal(tok.BosId, other.BosId);
            Assert.Equal(tok.EosId, other.EosId);
            Assert.Equal(tok.AddsBos, other.AddsBos);
        }
        foreach (string text in Probes)
        {
            int[] ids = tok.Encode(text);
            Assert.Equal(ids, reloaded.Encode(text));
            Assert.Equal(ids, hf.Encode(text));
            Assert.Equal(ids[(withBos ? 1 : 0)..], hf.Encode(text, addBos: false));
            Assert.Equal(tok.Decode(ids), hf.Decode(ids));
        }
        for (int id = 0; id < tok.VocabSize; id++) Assert.Equal(tok.TokenText(id), hf.TokenText(id));
    }

    [Fact]
    public void A_whole_vocabulary_can_put_padding_first_and_reads_back_from_its_file()
    {
        string[] vocabulary = ["<pad>", "<unk>", "<bos>", "<eos>", "cat", "the"];
        var tok = WordLevelTokenizer.FromVocabulary(vocabulary, ["<pad>", "<unk>", "<bos>", "<eos>"], "<unk>", "<bos>", "<eos>");
        Assert.Equal(((int?)2, (int?)3, true), (tok.BosId, tok.EosId, tok.AddsBos));
        Assert.Equal([2, 5, 4, 1, 0], tok.Encode("the cat dog <pad>"));
        Assert.Equal("the cat", tok.Decode([0, 2, 5, 4, 3, 0]));

        using var dir = new TempDirectory();
        string path = dir.File("tokenizer.json");
        tok.Save(path);
        var reloaded = WordLevelTokenizer.Load(path);
        using var hf = HfTokenizer.Load(path);
        foreach (var other in new ITokenizer[] { reloaded, hf })
        {
            Assert.Equal((tok.BosId, tok.EosId, tok.AddsBos), (other.BosId, other.EosId, other.AddsBos));
            Assert.Equal(tok.Encode("the cat dog <pad>"), other.Encode("the cat dog <pad>"));
        }
        Assert.Throws<ArgumentException>(() => WordLevelTokenizer.FromVocabulary(["<unk>", "a", "a"], ["<unk>"], "<unk>"));
        Assert.Throws<ArgumentException>(() => WordLevelTokenizer.FromVocabulary(["<unk>", "a"], ["<unk>"], "<unk>", bosToken: "a"));
    }

    [Fact]
    public void Rejects_words_no_text_could_produce()
    {
        Assert.Throws<ArgumentException>(() => new WordLevelTokenizer(["two words"]));
        Assert.Throws<ArgumentException>(() => new WordLevelTokenizer(["a"], unkToken: "<s>", bosToken: "<s>"));
    }

    [Fact]
    public void Other_word_level_files_are_left_to_the_hugging_face_loader()
    {
        using var dir = new TempDirectory();
        string path = dir.File("tokenizer.json");
        File.WriteAllText(path, """
            {"version":"1.0","truncation":null,"padding":null,"added_tokens":[],
             "normalizer":{"type":"Lowercase"},"pre_tokenizer":{"type":"WhitespaceSplit"},"post_processor":null,"decoder":null,
             "model":{"type":"WordLevel","vocab":{"[UNK]":0,"the":1,"cat":2},"unk_token":"[UNK]"}}
            """);
        Assert.Contains("HfTokenizer", Assert.Throws<ModelFormatException>(() => WordLevelTokenizer.Load(path)).Message);
        var tok = TokenizerLoader.Load(path);
        Assert.IsType<HfTokenizer>(tok);
        Assert.Equal([1, 2, 0], tok.Encode("The CAT sat"));
        ((IDisposable)tok).Dispose();
    }
}

public class PaddedVocabularyTests
{
    [Fact]
    public void AModelWithMoreIdsThanItsTokenizerShowsTheExtraOnesInsteadOfFailing()
    {
        using var dir = new TempDirectory();
        var inner = Glassbox.Datasets.ZooVocabulary.CreateTokenizer();
        var path = Path.Combine(dir.Path, "tokenizer.json");
        inner.Save(path);
        var padded = Glassbox.Tokenization.TokenizerLoader.Load(path, inner.VocabSize + 17);
        Assert.IsType<Glassbox.Tokenization.PaddedVocabulary>(padded);
        Assert.Equal(inner.VocabSize + 17, padded.VocabSize);
        int mary = inner.TokenToId("Mary")!.Value, extra = inner.VocabSize + 3;
        Assert.Equal($"<unused {extra}>", padded.Display(extra));
        // Runs of real tokens decode as the tokenizer decodes them; each extra id stands alone between them.
        Assert.Equal($"Mary<unused {extra}>Mary", padded.Decode([mary, extra, mary]));
        Assert.Equal(inner.Encode("Mary and John"), padded.Encode("Mary and John"));
        Assert.Throws<ArgumentOutOfRangeException>(() => padded.Display(inner.VocabSize + 17));
        // The zoo's tasks still see a word-level tokenizer and write their word-level text.
        Assert.Equal(Glassbox.Datasets.TextStyle.WordLevel, Glassbox.Datasets.DatasetText.StyleFor(padded));
        Assert.Same(inner.GetType(), Glassbox.Tokenization.TokenizerLoader.Load(path, inner.VocabSize).GetType());
    }
}
