using Glassbox.Tokenization;

namespace Glassbox.Tests.Tokenization;

public class HfTokenizerTests
{
    /// <summary>A Llama-style tokenizer.json: SentencePiece BPE with byte fallback and a template that prepends &lt;s&gt;.</summary>
    const string LlamaStyle = """
        {"version":"1.0","truncation":null,"padding":null,
         "added_tokens":[
           {"id":0,"content":"<unk>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
           {"id":1,"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
           {"id":2,"content":"</s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
         "normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]},
         "pre_tokenizer":null,
         "post_processor":{"type":"TemplateProcessing",
           "single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
           "pair":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],
           "special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}},
         "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
         "model":{"type":"BPE","dropout":null,"unk_token":"<unk>","continuing_subword_prefix":null,"end_of_word_suffix":null,
           "fuse_unk":true,"byte_fallback":true,
           "vocab":{"<unk>":0,"<s>":1,"</s>":2,"<0x0A>":3,"<0xC3>":4,"<0xA9>":5,"▁":6,"a":7,"b":8,"c":9,"▁a":10,"ab":11,"▁ab":12},
           "merges":["▁ a","a b","▁a b"]}}
        """;

    /// <summary>A GPT-2-style tokenizer.json: byte-level BPE, no BOS added.</summary>
    const string Gpt2Style = """
        {"version":"1.0","truncation":null,"padding":null,
         "added_tokens":[{"id":6,"content":"<|endoftext|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":true}],
         "normalizer":null,
         "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},
         "post_processor":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true},
         "decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},
         "model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":"","end_of_word_suffix":"","fuse_unk":false,
           "vocab":{"!":0,"h":1,"i":2,"Ġ":3,"hi":4,"Ġhi":5,"<|endoftext|>":6},
           "merges":["h i","Ġ hi"]}}
        """;

    static HfTokenizer Write(TempDirectory dir, string json, string? config = null)
    {
        File.WriteAllText(dir.File("tokenizer.json"), json);
        if (config != null) File.WriteAllText(dir.File("tokenizer_config.json"), config);
        return HfTokenizer.Load(dir.Path);
    }

    [Fact]
    public void Llama_style_tokenizer_prepends_bos_from_its_template()
    {
        using var dir = new TempDirectory();
        using var tok = Write(dir, LlamaStyle);
        Assert.Equal(13, tok.VocabSize);
        Assert.Equal((int?)1, tok.BosId);
        Assert.Equal((int?)2, tok.EosId);
        Assert.True(tok.AddsBos);
        Assert.Equal([1, 12, 6, 9], tok.Encode("ab c"));
        Assert.Equal([12, 6, 9], tok.Encode("ab c", addBos: false));
        Assert.Equal([1, 10, 3, 8, 4, 5], tok.Encode("a\nbé"));
        Assert.Equal("ab c", tok.Decode(tok.Encode("ab c")));
        Assert.Equal("a\nbé", tok.Decode(tok.Encode("a\nbé")));
    }

    [Fact]
    public void Tokenizer_config_overrides_adding_bos()
    {
        using var dir = new TempDirectory();
        using var tok = Write(dir, LlamaStyle, """{"add_bos_token": false, "bos_token": "<s>", "eos_token": {"content": "</s>"}}""");
        Assert.False(tok.AddsBos);
        Assert.Equal((int?)1, tok.BosId);
        Assert.Equal((int?)2, tok.EosId);
        Assert.Equal([12, 6, 9], tok.Encode("ab c"));
    }

    [Fact]
    public void Display_shows_metaspace_and_byte_pieces()
    {
        using var dir = new TempDirectory();
        using var tok = Write(dir, LlamaStyle);
        Assert.Equal("▁ab", tok.TokenText(12));
        Assert.Equal((int?)12, tok.TokenToId("▁ab"));
        Assert.Equal(" ab", tok.Display(12));
        Assert.Equal("\n", tok.Display(3));
        Assert.Equal("\\xC3", tok.Display(4));
        Assert.Equal("<s>", tok.Display(1));
    }

    [Fact]
    public void Gpt2_style_tokenizer_adds_no_bos_and_displays_byte_level_pieces()
    {
        using var dir = new TempDirectory();
        using var tok = Write(dir, Gpt2Style);
        Assert.False(tok.AddsBos);
        Assert.Equal((int?)6, tok.BosId);
        Assert.Equal((int?)6, tok.EosId);
        Assert.Equal([5, 5, 0], tok.Encode(" hi hi!"));
        Assert.Equal([4, 6], tok.Encode("hi<|endoftext|>"));
        Assert.Equal(" hi hi!", tok.Decode(tok.Encode(" hi hi!")));
        Assert.Equal("Ġhi", tok.TokenText(5));
        Assert.Equal(" hi", tok.Display(5));
        Assert.Equal(" ", tok.Display(3));
        Assert.Equal("<|endoftext|>", tok.Display(6));
    }

    [Fact]
    public void Bad_files_are_rejected_naming_the_file_and_the_problem()
    {
        using var dir = new TempDirectory();
        string path = dir.File("tokenizer.json");

        File.WriteAllText(path, "{ not json");
        var e = Assert.Throws<ModelFormatException>(() => HfTokenizer.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not valid JSON", e.Message);

        File.WriteAllText(path, """{"foo": 1}""");
        e = Assert.Throws<ModelFormatException>(() => HfTokenizer.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("\"model\"", e.Message);

        File.WriteAllText(path, """{"model": {"type": "Bogus", "vocab": {"a": 0}}}""");
        e = Assert.Throws<ModelFormatException>(() => HfTokenizer.Load(path));
        Assert.Contains(path, e.Message);

        e = Assert.Throws<ModelFormatException>(() => HfTokenizer.Load(dir.File("missing.json")));
        Assert.Contains("does not exist", e.Message);
    }
}
