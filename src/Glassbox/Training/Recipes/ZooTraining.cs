using System.Text.Json;
using System.Text.Json.Serialization;
using Glassbox.Datasets;
using Glassbox.Loading;
using Glassbox.Models;
using Glassbox.Tokenization;

namespace Glassbox.Training.Recipes;

/// <summary>What a recipe run produced: the final losses and the recipe's task metrics.</summary>
public sealed record ZooRun(string Recipe, int Steps, int Seed, TrainingResult Training, IReadOnlyDictionary<string, double> Metrics);

/// <summary>Runs a recipe end to end: seeded init, training, evaluation, and (optionally) a saved HF directory with a training.json record.</summary>
public static class ZooTraining
{
    public static (HookedTransformer Model, ITokenizer Tokenizer, ZooRun Run) Train(Recipe recipe, int? steps = null, int seed = 0,
        IProgress<TrainingProgress>? progress = null)
    {
        var tokenizer = ZooVocabulary.CreateTokenizer();
        var config = recipe.Config(tokenizer);
        using var init = RandomInit.Create(config, seed);
        var model = new HookedTransformer(config, init);
        int n = steps ?? recipe.DefaultSteps;
        // Each step's data depends only on (seed, step), so a run is reproducible and resumable.
        var result = Trainer.Train(model, step => recipe.Batch(tokenizer, unchecked(seed * 1_000_003 + step) & 0x3FFFFFFF),
            recipe.EvalBatch(tokenizer), recipe.Options(n), progress);
        return (model, tokenizer, new ZooRun(recipe.Name, n, seed, result, recipe.Evaluate(model, tokenizer)));
    }

    // A diverged run's NaN loss is still worth recording; the default options would refuse to write it.
    static readonly JsonSerializerOptions RecordJson = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static void Save(HookedTransformer model, ITokenizer tokenizer, ZooRun run, string dir, string command)
    {
        ModelSaver.Save(model, dir, tokenizer);
        var record = new
        {
            recipe = run.Recipe, steps = run.Steps, seed = run.Seed, command,
            final_train_loss = run.Training.FinalLoss, final_eval_loss = run.Training.FinalEvalLoss,
            tokens_per_second = run.Training.TokensPerSecond, seconds = run.Training.Elapsed.TotalSeconds,
            metrics = run.Metrics,
        };
        File.WriteAllText(Path.Combine(dir, "training.json"), JsonSerializer.Serialize(record, RecordJson) + "\n");
    }
}
