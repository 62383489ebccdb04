using System.Text.RegularExpressions;
using Glassbox.Tokenization;

namespace Glassbox.Tests.Tokenization;

public class SentencePieceTokenizerTests
{
    static string Tok512Model => SharedModels.Path("models", "stories260K", "tok512.model");

    static (SentencePieceTokenizer Model, Llama2cTokenizer Bin) Tok512() =>
        (SentencePieceTokenizer.Load(Tok512Model), Llama2cTokenizer.Load(SharedModels.Stories260KTokenizer, 512));

    /// <summary>
    /// SentencePiece's default normaliser (which tok512.model uses) strips leading and trailing
    /// spaces and collapses runs of them; llama2.c does not. This is the text SentencePiece tokenises.
    /// </summary>
    static string CollapseSpaces(string text) => Regex.Replace(text, " +", " ").Trim(' ');

    [SharedFact]
    public void Tok512_model_is_a_bpe_model_with_the_same_pieces_and_scores_as_tok512_bin()
    {
        var (model, bin) = Tok512();
        Assert.Equal(SentencePieceModelType.Bpe, model.ModelType);
        Assert.Equal(bin.VocabSize, model.VocabSize);
        Assert.Equal((int?)1, model.BosId);
        Assert.Equal((int?)2, model.EosId);
        Assert.True(model.AddsBos);
        Assert.Equal(SentencePieceType.Unknown, model.PieceType(0));
        Assert.Equal(SentencePieceType.Control, model.PieceType(1));
        Assert.Equal(SentencePieceType.Byte, model.PieceType(3));
        for (int id = 3; id < model.VocabSize; id++)
        {
            Assert.Equal(bin.TokenText(id), model.TokenText(id).Replace('▁', ' '));
            Assert.Equal(bin.Score(id), model.Score(id));
        }
    }

    [SharedFact]
    public void Encodes_exactly_as_llama2c_on_the_same_vocabulary()
    {
        var (model, bin) = Tok512();
        foreach (string text in Llama2cTokenizerTests.VariedTexts.Append(Llama2cTokenizerTests.ReferenceStory))
        {
            // Where the text has no extra spaces the two agree outright; otherwise SentencePiece
            // first normalises the spaces away, and then agrees with llama2.c on what is left.
            Assert.Equal(bin.Encode(CollapseSpaces(text)), model.Encode(text));
            if (text == CollapseSpaces(text)) Assert.Equal(bin.Encode(text), model.Encode(text));
        }
        Assert.Equal(bin.Encode("Once upon a time")[1..], model.Encode("Once upon a time", addBos: false));
    }

    [SharedFact]
    public void Extra_spaces_are_normalised_as_sentencepiece_does()
    {
        var (model, _) = Tok512();
        Assert.Equal(model.Encode("a b"), model.Encode("  a    b  "));
        Assert.Equal([1], model.Encode("   "));
        Assert.NotEqual(model.Encode("a\tb"), model.Encode("a b"));
    }

    [SharedFact]
    public void Decode_inverts_encode_on_normalised_text()
    {
        var (model, _) = Tok512();
        foreach (string text in Llama2cTokenizerTests.VariedTexts.Append(Llama2cTokenizerTests.ReferenceStory))
            Assert.Equal(CollapseSpaces(text), model.Decode(model.Encode(text)));
    }

    [SharedFact]
    public void Display_turns_the_word_marker_into_a_space()
    {
        var (model, _) = Tok512();
        int the = model.TokenToId("▁the")!.Value;
        Assert.Equal("▁the", model.TokenText(the));
        Assert.Equal(" the", model.Display(the));
        Assert.Equal("\n", model.Display(model.TokenToId("<0x0A>")!.Value));
        Assert.Equal("\\xE6", model.Display(model.TokenToId("<0xE6>")!.Value));
        Assert.Equal("<s>", model.Display(1));
        Assert.Null(model.TokenToId(" the"));
    }

    [Fact]
    public void Unigram_models_take_the_highest_scoring_segmentation()
    {
        using var dir = new TempDirectory();
        string path = dir.File("uni.model");
        var id = TokenizerFiles.WriteSentencePiece(path, new TokenizerFiles.SentencePieceSpec { ModelType = 1 },
            ("▁", -2, 1), ("a", -3, 1), ("b", -3, 1), ("c", -2, 1), ("ab", -0.5f, 1), ("▁ab", -1, 1), ("▁a", -1.5f, 1), ("bc", -1.2f, 1));
        var tok = SentencePieceTokenizer.Load(path);
        Assert.Equal(SentencePieceModelType.Unigram, tok.ModelType);
        // "▁abc": ▁ab+c = -3, ▁a+bc = -2.7 (best), ▁+ab+c = -4.5, ▁+a+bc = -6.2.
        Assert.Equal([1, id["▁a"], id["bc"]], tok.Encode("abc"));
        // "▁ab": ▁ab = -1 beats ▁+ab = -2.5 and ▁a+b = -4.5.
        Assert.Equal([id["▁ab"]], tok.Encode("ab", addBos: false));
        // Unknown characters become one <unk> per run (score: lowest piece -3, minus 10).
        Assert.Equal([id["▁a"], 0, id["c"]], tok.Encode("axyc", addBos: false));
        Assert.Equal("a ⁇ c", tok.Decode(tok.Encode("axyc")));
        Assert.Equal("ab c", tok.Decode(tok.Encode("ab c")));
    }

    [Fact]
    public void Unigram_models_with_byte_fallback_spell_unknown_characters_in_bytes()
    {
        using var dir = new TempDirectory();
        string path = dir.File("uni.model");
        var id = TokenizerFiles.WriteSentencePiece(path, new TokenizerFiles.SentencePieceSpec { ModelType = 1, ByteFallback = true },
            ("▁", -2, 1), ("a", -3, 1), ("▁a", -1, 1));
        var tok = SentencePieceTokenizer.Load(path);
        Assert.Equal([id["▁a"], id["<0xC3>"], id["<0xA9>"], id["a"]], tok.Encode("aéa", addBos: false));
        Assert.Equal("aéa", tok.Decode(tok.Encode("aéa")));
        Assert.Equal([id["▁a"], id["<0xF0>"], id["<0x9F>"], id["<0x99>"], id["<0x82>"]], tok.Encode("a🙂", addBos: false));
    }

    [Fact]
    public void Bpe_models_match_user_defined_pieces_whole()
    {
        using var dir = new TempDirectory();
        string path = dir.File("bpe.model");
        var id = TokenizerFiles.WriteSentencePiece(path, new TokenizerFiles.SentencePieceSpec { ByteFallback = true },
            ("▁", -1, 1), ("a", -2, 1), ("b", -3, 1), ("▁a", -4, 1), ("ab", -5, 1), ("▁ab", -6, 1), ("<sep>", 0, 4), ("s", -7, 1));
        var tok = SentencePieceTokenizer.Load(path);
        Assert.Equal([1, id["▁ab"]], tok.Encode("ab"));
        Assert.Equal([1, id["▁a"], id["<sep>"], id["b"]], tok.Encode("a<sep>b"));
        Assert.Equal("a<sep>b", tok.Decode(tok.Encode("a<sep>b")));
        Assert.Equal([1, id["▁a"], id["<0x7A>"]], tok.Encode("az"));
    }

    [Fact]
    public void Normaliser_options_are_honoured()
    {
        using var dir = new TempDirectory();
        string path = dir.File("bpe.model");
        var id = TokenizerFiles.WriteSentencePiece(path,
            new TokenizerFiles.SentencePieceSpec { RemoveExtraWhitespaces = false, AddDummyPrefix = false },
            ("▁", -1, 1), ("a", -2, 1), ("▁a", -3, 1));
        var tok = SentencePieceTokenizer.Load(path);
        Assert.Equal([1, id["a"], id["▁"], id["▁"], id["▁a"]], tok.Encode("a   a"));
        Assert.Equal("a   a", tok.Decode(tok.Encode("a   a")));
        Assert.Equal(" a", tok.Decode(tok.Encode(" a")));
    }

    [Fact]
    public void Garbage_and_truncated_models_are_rejected_naming_the_file()
    {
        using var dir = new TempDirectory();
        void AssertRejected(byte[] content, string problem)
        {
            string path = dir.File("bad.model");
            File.WriteAllBytes(path, content);
            var e = Assert.Throws<ModelFormatException>(() => SentencePieceTokenizer.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains(problem, e.Message);
        }

        AssertRejected("this is not a model"u8.ToArray(), "wire type");
        AssertRejected([], "no pieces");
        AssertRejected([0x0A, 0x80], "end of data");
        AssertRejected([0x0A, 0x05, 0x0A, 0x01], "past the end");

        string good = dir.File("good.model");
        TokenizerFiles.WriteSentencePiece(good, new TokenizerFiles.SentencePieceSpec { ModelType = 4 }, ("a", -1, 1));
        Assert.Contains("not supported", Assert.Throws<ModelFormatException>(() => SentencePieceTokenizer.Load(good)).Message);
        TokenizerFiles.WriteSentencePiece(good, new TokenizerFiles.SentencePieceSpec(), ("a", -1, 1));
        byte[] bytes = File.ReadAllBytes(good);
        AssertRejected(bytes[..(bytes.Length - 3)], "at byte");
    }
}
