using System.Diagnostics;
using Glassbox.Tokenization;

namespace Glassbox.Tests.Tokenization;

public class Llama2cTokenizerTests
{
    /// <summary>The greedy 200-position story of stories260K, from /work/shared/models/README.md.</summary>
    public const string ReferenceStory =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n"
        + "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. She said, \"I want to play with your ball, but I can't find it.\"\n"
        + "Lily was sad and didn't know what to do. She said, \"I'm sorry, Lily. I didn't know what to do.\"\n"
        + "Lily didn't want to help her mom, so she";

    public static readonly string[] VariedTexts =
    [
        "Once upon a time", "Hello, world!", "The cat sat on the mat.", "1234567890", "3.14 + 2 = 5.14",
        "a", " ", "  ", " leading", "trailing ", "multiple   spaces  here", "\n", "line one\nline two\n\n",
        "tab\tseparated", "café", "naïve résumé", "日本", "emoji 🙂 and 👍🏽", "Ünïcödé ßtraße", "<s>", "</s>",
        "quotes \"double\" and 'single'", "(brackets) [square] {curly}", "a-b_c/d\\e", "~`!@#$%^&*", "ÿ\u00A0\u2003",
    ];

    static Llama2cTokenizer Stories => Llama2cTokenizer.Load(SharedModels.Stories260KTokenizer, 512);

    [SharedFact]
    public void Loads_the_stories260K_vocabulary()
    {
        var tok = Stories;
        Assert.Equal(512, tok.VocabSize);
        Assert.Equal(7, tok.MaxTokenLength);
        Assert.Equal((int?)1, tok.BosId);
        Assert.Equal((int?)2, tok.EosId);
        Assert.True(tok.AddsBos);
        Assert.Equal("\n<s>\n", tok.TokenText(1));
        Assert.Equal("<0x0A>", tok.TokenText(3 + 0x0A));
        Assert.Equal(-6f, tok.Score(tok.TokenToId(" the")!.Value));
    }

    [SharedFact]
    public void Once_upon_a_time_is_bos_then_one_piece_per_word()
    {
        var tok = Stories;
        // Each word with its leading space (the dummy prefix for the first) is a piece, and the
        // merges build it before any cross-word piece can form, since no piece spans two words.
        int[] expected = [1, .. new[] { " Once", " upon", " a", " time" }.Select(p => tok.TokenToId(p)!.Value)];
        Assert.Equal(expected, tok.Encode("Once upon a time"));
    }

    [SharedFact]
    public void Merges_follow_the_highest_score()
    {
        var tok = Stories;
        int Id(string piece) => tok.TokenToId(piece)!.Value;
        // "a": " " + "a" merges to " a".
        Assert.Equal([1, Id(" a")], tok.Encode("a"));
        // "the": " ", "t", "h", "e". " t" scores -0 (the best of " t", "th", "he"); then "he" (-1)
        // beats " th" (-49); then " t"+"he" = " the" (-6).
        Assert.Null(tok.TokenToId("th"));
        Assert.True(tok.Score(Id(" t")) > tok.Score(Id("he")));
        Assert.True(tok.Score(Id("he")) > tok.Score(Id(" th")));
        Assert.Equal([1, Id(" the")], tok.Encode("the"));
        // Digits are single pieces that never merge (the vocabulary was trained with split digits).
        Assert.Equal([1, Id(" "), Id("1"), Id("2"), Id("3")], tok.Encode("123"));
    }

    [SharedFact]
    public void Matches_an_independent_transcription_of_llama2c_encode()
    {
        // Ids from a separate line-by-line port of llama2.c's encode() run on the same tok512.bin.
        Assert.Equal(
            [1, 317, 439, 419, 357, 336, 432, 313, 438, 310, 432, 278, 316, 439, 419, 298, 414, 426, 436],
            Stories.Encode("Lily's mom said, \"Lily, let's go.\""));
        Assert.Equal([1, 410, 410, 259, 424, 414, 410, 262, 427, 412, 331, 419, 410], Stories.Encode("  two  spaces "));
        Assert.Equal([1, 280, 412, 431, 485], Stories.Encode("café"));
    }

    [SharedFact]
    public void Characters_outside_the_vocabulary_fall_back_to_byte_tokens()
    {
        var tok = Stories;
        Assert.Null(tok.TokenToId("日"));
        // 日 = E6 97 A5, 本 = E6 9C AC; byte token id = byte + 3.
        Assert.Equal([1, tok.TokenToId(" ")!.Value, 0xE6 + 3, 0x97 + 3, 0xA5 + 3, 0xE6 + 3, 0x9C + 3, 0xAC + 3], tok.Encode("日本"));
        Assert.Equal([1, tok.TokenToId(" ")!.Value, 0x0A + 3], tok.Encode("\n"));
    }

    [SharedFact]
    public void Empty_text_is_just_bos_and_bos_can_be_left_out()
    {
        var tok = Stories;
        Assert.Equal([1], tok.Encode(""));
        Assert.Empty(tok.Encode("", addBos: false));
        Assert.Equal(tok.Encode("Once upon")[1..], tok.Encode("Once upon", addBos: false));
    }

    [SharedFact]
    public void Decode_inverts_encode()
    {
        var tok = Stories;
        foreach (string text in VariedTexts.Append(ReferenceStory))
            Assert.Equal(text, tok.Decode(tok.Encode(text)));
    }

    [SharedFact]
    public void Reference_story_round_trips_exactly()
    {
        var tok = Stories;
        int[] ids = tok.Encode(ReferenceStory);
        Assert.Equal(1, ids[0]);
        Assert.Equal(ReferenceStory, tok.Decode(ids));
        Assert.Equal(ReferenceStory, string.Concat(ids.Skip(1).Select((id, i) => i == 0 ? tok.Decode([1, id]) : tok.Decode([id]))));
    }

    [SharedFact]
    public void Decode_drops_the_leading_space_only_after_bos()
    {
        var tok = Stories;
        int once = tok.TokenToId(" Once")!.Value;
        Assert.Equal("Once", tok.Decode([1, once]));
        Assert.Equal(" Once", tok.Decode([once]));
        Assert.Equal(" Once Once", tok.Decode([once, once]));
        Assert.Equal("Once", tok.Decode([1, once, 2]));
    }

    [SharedFact]
    public void Byte_tokens_decode_to_bytes_assembled_into_characters()
    {
        var tok = Stories;
        Assert.Equal("日", tok.Decode([0xE6 + 3, 0x97 + 3, 0xA5 + 3]));
        Assert.Equal("a\nb", tok.Decode([tok.TokenToId("a")!.Value, 0x0A + 3, tok.TokenToId("b")!.Value]));
    }

    [SharedFact]
    public void Display_shows_spaces_bytes_and_markers_readably()
    {
        var tok = Stories;
        Assert.Equal(" the", tok.Display(tok.TokenToId(" the")!.Value));
        Assert.Equal("<s>", tok.Display(1));
        Assert.Equal("</s>", tok.Display(2));
        Assert.Equal("\n", tok.Display(0x0A + 3));
        Assert.Equal("\t", tok.Display(0x09 + 3));
        Assert.Equal("A", tok.Display(0x41 + 3));
        Assert.Equal("\\x00", tok.Display(0x00 + 3));
        Assert.Equal("\\x1B", tok.Display(0x1B + 3));
        Assert.Equal("\\xE6", tok.Display(0xE6 + 3));
        Assert.Equal("é", tok.Display(tok.TokenToId("é")!.Value));
    }

    [SharedFact]
    public void A_two_thousand_token_prompt_encodes_quickly()
    {
        var tok = Stories;
        string text = string.Join("\n", Enumerable.Repeat(ReferenceStory, 12));
        var watch = Stopwatch.StartNew();
        int[] ids = tok.Encode(text);
        watch.Stop();
        Assert.True(ids.Length >= 2000, $"only {ids.Length} tokens");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        Assert.Equal(text, tok.Decode(ids));
    }

    [Fact]
    public void Works_on_a_written_vocabulary_without_shared_models()
    {
        using var dir = new TempDirectory();
        string path = dir.File("tok.bin");
        TokenizerFiles.WriteLlama2c(path, (" ", -1), ("a", -2), ("b", -3), (" a", -4), ("ab", -5), (" ab", -6));
        var tok = Llama2cTokenizer.Load(path);
        Assert.Equal(265, tok.VocabSize);
        // " ","a","b": " a" (-4) beats "ab" (-5); then " a"+"b" = " ab" (-6).
        Assert.Equal([1, tok.TokenToId(" ab")!.Value], tok.Encode("ab"));
        Assert.Equal([1, tok.TokenToId(" ")!.Value, 'c' + 3], tok.Encode("c"));
        Assert.Equal("ab c", tok.Decode(tok.Encode("ab c")));
    }

    [Fact]
    public void Truncated_or_malformed_files_are_rejected_naming_the_file()
    {
        using var dir = new TempDirectory();
        string good = dir.File("good.bin");
        TokenizerFiles.WriteLlama2c(good, (" ", -1), ("a", -2));
        byte[] bytes = File.ReadAllBytes(good);

        void AssertRejected(byte[] content, string problem, int? vocabSize = null)
        {
            string path = dir.File("bad.bin");
            File.WriteAllBytes(path, content);
            var e = Assert.Throws<ModelFormatException>(() => Llama2cTokenizer.Load(path, vocabSize));
            Assert.Contains(path, e.Message);
            Assert.Contains(problem, e.Message);
        }

        AssertRejected(bytes[..2], "header");
        AssertRejected(bytes[..(bytes.Length - 1)], "truncated");
        AssertRejected(bytes[..(bytes.Length - 8)], "truncated");
        AssertRejected(bytes[..101], "truncated");
        AssertRejected(bytes, "expects 300", vocabSize: 300);
        AssertRejected(bytes[..4], "too few");
        AssertRejected(new byte[] { 0, 0, 0, 0 }, "max_token_length");
        Assert.Equal(261, Llama2cTokenizer.Load(good, 261).VocabSize);
    }
}
