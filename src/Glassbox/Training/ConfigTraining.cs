using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Glassbox.Loading;
using Glassbox.Models;
using Glassbox.Tokenization;
using Glassbox.Training.Recipes;
using static TorchSharp.torch;

namespace Glassbox.Training;

/// <summary>
/// `glassbox train --config FILE`: train any architecture from a JSON file, as TransformerLens's toy-model
/// training does. The file has a <c>model</c> object (the <see cref="ModelConfig"/> fields in snake_case;
/// <c>vocab_size</c> defaults to the tokenizer's), a <c>data</c> object (<c>{"text": PATH}</c> for a text
/// corpus cut into random windows, with a word-level vocabulary learnt from it unless <c>"tokenizer": PATH</c>
/// is given; or <c>{"recipe": NAME}</c> for a recipe's task data), a <c>training</c> object
/// (<see cref="TrainingOptions"/> fields plus <c>batch_size</c>) and a <c>seed</c>.
/// </summary>
public static class ConfigTraining
{
    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public sealed record Spec(ModelConfig Model, ITokenizer Tokenizer, Func<int, TrainingBatch> Batches, TrainingBatch EvalBatch, TrainingOptions Options, int Seed);

    public static Spec Load(string path)
    {
        if (!File.Exists(path)) throw new GlassboxException($"{path}: training config not found.");
        JsonObject root;
        try { root = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new GlassboxException($"{path}: empty training config."); }
        catch (JsonException e) { throw new GlassboxException($"{path}: not valid JSON ({e.Message})."); }
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        JsonObject Section(string name) => root[name] as JsonObject ?? throw new GlassboxException($"{path}: missing the '{name}' object.");
        int seed = root["seed"]?.GetValue<int>() ?? 0;
        var data = Section("data");
        var trainingNode = Section("training");
        int batchSize = trainingNode["batch_size"]?.GetValue<int>() ?? 16;
        if (batchSize < 1) throw new GlassboxException($"{path}: batch_size must be at least 1, got {batchSize}.");
        trainingNode.Remove("batch_size");

        ITokenizer tokenizer;
        Func<int, TrainingBatch> batches;
        Func<ModelConfig, Func<int, TrainingBatch>>? windows = null;
        if (data["recipe"] is JsonNode recipeName)
        {
            var recipe = RecipeCatalog.Get(recipeName.GetValue<string>());
            tokenizer = Datasets.ZooVocabulary.CreateTokenizer();
            batches = step => recipe.Batch(tokenizer, unchecked(seed * 1_000_003 + step) & 0x3FFFFFFF);
        }
        else if (data["text"] is JsonNode textPath)
        {
            var corpusPath = Path.Combine(dir, textPath.GetValue<string>());
            if (!File.Exists(corpusPath)) throw new GlassboxException($"{path}: the text corpus {corpusPath} does not exist.");
            var text = File.ReadAllText(corpusPath);
            tokenizer = data["tokenizer"] is JsonNode tok
                ? TokenizerLoader.Load(Path.Combine(dir, tok.GetValue<string>()))
                : WordLevelTokenizer.Train(text.Split('\n'), MaxVocab(data["max_vocab"]?.GetValue<int>() ?? 2000), unkToken: "<unk>", bosToken: "<bos>", eosToken: "<eos>");
            var ids = tokenizer.Encode(text, addBos: false).Select(i => (long)i).ToArray();
            windows = cfg => step => Windows(ids, batchSize, cfg.ContextLength, unchecked(seed * 1_000_003 + step));
            batches = null!;
        }
        else throw new GlassboxException($"{path}: 'data' needs \"text\": PATH or \"recipe\": NAME.");

        var modelNode = Section("model");
        modelNode["vocab_size"] ??= tokenizer.VocabSize;
        modelNode["bos_token_id"] ??= tokenizer.BosId;
        modelNode["eos_token_id"] ??= tokenizer.EosId;
        ModelConfig model;
        TrainingOptions options;
        try
        {
            model = modelNode.Deserialize<ModelConfig>(Json)!.Validated();
            options = trainingNode.Deserialize<TrainingOptions>(Json)!.Validated();
        }
        catch (JsonException e)
        {
            throw new GlassboxException($"{path}: {e.Message}");
        }
        if (model.VocabSize < tokenizer.VocabSize)
            throw new GlassboxException($"{path}: vocab_size {model.VocabSize} is smaller than the tokenizer's {tokenizer.VocabSize}.");
        if (windows is not null) batches = windows(model);
        return new Spec(model, tokenizer, batches, batches(int.MaxValue / 2), options, seed);
    }

    /// <summary>Random windows of <paramref name="length"/> tokens from the corpus, the same for the same seed.</summary>
    /// <summary>A learned word-level vocabulary needs room for its three special tokens and at least one word.</summary>
    static int MaxVocab(int size) => size >= 4 ? size : throw new GlassboxException($"max_vocab must be at least 4 (<unk>, <bos>, <eos> and a word), got {size}.");

    static TrainingBatch Windows(long[] ids, int batchSize, int length, int seed)
    {
        if (ids.Length <= length) throw new GlassboxException($"The corpus has {ids.Length} tokens, fewer than one window of {length}.");
        var random = new Random(seed);
        var rows = new long[batchSize * length];
        for (int r = 0; r < batchSize; r++) Array.Copy(ids, random.Next(ids.Length - length), rows, r * length, length);
        return new TrainingBatch(tensor(rows, new long[] { batchSize, length }));
    }

    public static (HookedTransformer Model, TrainingResult Result) Train(Spec spec, IProgress<TrainingProgress>? progress = null)
    {
        using var init = RandomInit.Create(spec.Model, spec.Seed);
        var model = new HookedTransformer(spec.Model, init);
        return (model, Trainer.Train(model, spec.Batches, spec.EvalBatch, spec.Options, progress));
    }
}
