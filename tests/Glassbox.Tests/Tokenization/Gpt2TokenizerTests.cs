using Glassbox.Tokenization;

namespace Glassbox.Tests.Tokenization;

public class Gpt2TokenizerTests
{
    static readonly Gpt2Tokenizer Tok = new();

    [Fact]
    public void Encodes_to_the_standard_gpt2_ids()
    {
        Assert.Equal([15496, 995], Tok.Encode("Hello world"));
        Assert.Equal([262], Tok.Encode(" the"));
        Assert.Equal([198], Tok.Encode("\n"));
        Assert.Equal([50256], Tok.Encode("<|endoftext|>"));
    }

    [Fact]
    public void Adds_no_bos_and_uses_endoftext_for_both_markers()
    {
        Assert.Equal(50257, Tok.VocabSize);
        Assert.Equal((int?)50256, Tok.BosId);
        Assert.Equal((int?)50256, Tok.EosId);
        Assert.False(Tok.AddsBos);
        Assert.Equal(Tok.Encode("Hello world", addBos: false), Tok.Encode("Hello world", addBos: true));
    }

    [Fact]
    public void Decode_inverts_encode()
    {
        foreach (string text in Llama2cTokenizerTests.VariedTexts.Append(Llama2cTokenizerTests.ReferenceStory))
            Assert.Equal(text, Tok.Decode(Tok.Encode(text)));
        Assert.Equal("a b", Tok.Decode([50256, .. Tok.Encode("a b"), 50256]));
    }

    [Fact]
    public void Pieces_are_spelled_in_the_byte_level_alphabet()
    {
        int the = Tok.TokenToId("Ġthe")!.Value;
        Assert.Equal(262, the);
        Assert.Equal("Ġthe", Tok.TokenText(the));
        Assert.Equal(" the", Tok.Display(the));
        Assert.Equal("Ċ", Tok.TokenText(198));
        Assert.Equal("\n", Tok.Display(198));
        Assert.Equal("<|endoftext|>", Tok.TokenText(50256));
        Assert.Equal((int?)50256, Tok.TokenToId("<|endoftext|>"));
        Assert.Equal((int?)15496, Tok.TokenToId("Hello"));
        Assert.Null(Tok.TokenToId(" the"));
    }

    [Fact]
    public void Partial_characters_display_as_escaped_bytes()
    {
        // "’" (E2 80 99) is two GPT-2 tokens: "âĢ" (E2 80) and "Ļ" (99).
        int[] ids = Tok.Encode("’");
        Assert.Equal(2, ids.Length);
        Assert.Equal("\\xE2\\x80", Tok.Display(ids[0]));
        Assert.Equal("\\x99", Tok.Display(ids[1]));
        Assert.Equal("’", Tok.Decode(ids));
    }

    [Fact]
    public void Every_piece_agrees_with_the_encoders_own_decoding()
    {
        for (int id = 0; id < 50256; id++)
        {
            string decoded = Tok.Decode([id]);
            bool plain = !decoded.Contains('\uFFFD') && !decoded.Any(c => char.IsControl(c) && !char.IsWhiteSpace(c));
            if (plain) Assert.Equal(decoded, Tok.Display(id));
            Assert.Equal(id, Tok.TokenToId(Tok.TokenText(id)));
        }
    }
}
