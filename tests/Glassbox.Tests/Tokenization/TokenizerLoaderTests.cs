using Glassbox.Tokenization;

namespace Glassbox.Tests.Tokenization;

public class TokenizerLoaderTests
{
    [SharedFact]
    public void Picks_the_reader_by_file_type()
    {
        Assert.IsType<Llama2cTokenizer>(TokenizerLoader.Load(SharedModels.Stories260KTokenizer));
        Assert.IsType<SentencePieceTokenizer>(TokenizerLoader.Load(SharedModels.Path("models", "stories260K", "tok512.model")));
        Assert.Equal(512, TokenizerLoader.Load(SharedModels.Stories260KTokenizer, vocabSize: 512).VocabSize);
    }

    [Fact]
    public void Directories_are_searched_for_a_tokenizer_file()
    {
        using var dir = new TempDirectory();
        TokenizerFiles.WriteLlama2c(dir.File("tokenizer.bin"), (" ", -1));
        Assert.IsType<Llama2cTokenizer>(TokenizerLoader.Load(dir.Path));

        TokenizerFiles.WriteSentencePiece(dir.File("tokenizer.model"), new TokenizerFiles.SentencePieceSpec(), ("▁", -1, 1));
        Assert.IsType<SentencePieceTokenizer>(TokenizerLoader.Load(dir.Path));

        new WordLevelTokenizer(["a"]).Save(dir.File("tokenizer.json"));
        Assert.IsType<WordLevelTokenizer>(TokenizerLoader.Load(dir.Path));
    }

    [Fact]
    public void Unknown_kinds_and_missing_paths_are_clear_errors()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(dir.Path));
        Assert.Contains("holds no tokenizer", e.Message);

        string text = dir.File("vocab.txt");
        File.WriteAllText(text, "a\nb\n");
        e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(text));
        Assert.Contains(text, e.Message);
        Assert.Contains("Cannot tell", e.Message);

        e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(dir.File("absent.model")));
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void Bad_files_raise_model_format_errors_naming_them()
    {
        using var dir = new TempDirectory();
        string bin = dir.File("tok.bin");
        TokenizerFiles.WriteLlama2c(bin, (" ", -1));
        File.WriteAllBytes(bin, File.ReadAllBytes(bin)[..50]);
        string model = dir.File("tok.model");
        File.WriteAllText(model, "garbage, not a protobuf");
        string json = dir.File("tokenizer.json");
        File.WriteAllText(json, "[1, 2");

        foreach (string path in new[] { bin, model, json })
            Assert.Contains(path, Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(path)).Message);
    }
}
