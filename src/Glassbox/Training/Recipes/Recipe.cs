using Glassbox.Models;
using Glassbox.Tokenization;

namespace Glassbox.Training.Recipes;

/// <summary>
/// A reproducible way to train a zoo model: its architecture, its data (as seeded batches), its optimiser
/// settings, and the task metrics it is judged by. `glassbox train --recipe NAME` runs one.
/// </summary>
public abstract class Recipe
{
    public abstract string Name { get; }
    public abstract string Description { get; }
    public abstract int DefaultSteps { get; }

    public abstract ModelConfig Config(ITokenizer tokenizer);

    public virtual TrainingOptions Options(int steps) => new() { Steps = steps, LearningRate = 3e-3, WarmupSteps = Math.Min(100, steps / 10), EvalEvery = 100 };

    /// <summary>The batch for one step; <paramref name="seed"/> is derived from the run's seed and the step.</summary>
    public abstract TrainingBatch Batch(ITokenizer tokenizer, int seed);

    /// <summary>A fixed held-out batch for the evaluation loss.</summary>
    public TrainingBatch EvalBatch(ITokenizer tokenizer) => Batch(tokenizer, HeldOutSeed);

    /// <summary>Task metrics on held-out data (names are stable: model cards and tests quote them).</summary>
    public abstract IReadOnlyDictionary<string, double> Evaluate(HookedTransformer model, ITokenizer tokenizer);

    /// <summary>Seeds at or above this are held out: training batches never use them.</summary>
    protected const int HeldOutSeed = 1_000_000_007;
}
