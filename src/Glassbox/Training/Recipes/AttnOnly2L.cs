using Glassbox.Datasets;
using Glassbox.Models;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Training.Recipes;

/// <summary>
/// Two attention-only layers trained on repeated random token sequences, as TransformerLens's attn-only
/// toy models (Elhage et al. 2021; Olsson et al. 2022): the model can only lower the loss on the repeat by
/// in-context copying, which needs a previous-token head composing with an induction head.
/// </summary>
public sealed class AttnOnly2L : Recipe
{
    const int BatchSize = 32;
    static readonly int[] HalfLengths = { 10, 20, 30, 40, 50 };

    public override string Name => "attn-only-2l";
    public override string Description => "2 attention-only layers on repeated random tokens (induction)";
    public override int DefaultSteps => 1500;

    public override ModelConfig Config(ITokenizer tokenizer) => new()
    {
        Architecture = "gpt2", AttnOnly = true, NLayers = 2, DModel = 64, NHeads = 4, DMlp = 0,
        VocabSize = tokenizer.VocabSize, ContextLength = 128, Norm = NormKind.LayerNorm, Positional = PositionalKind.Learned,
        BosTokenId = tokenizer.BosId, EosTokenId = tokenizer.EosId,
    };

    public override TrainingBatch Batch(ITokenizer tokenizer, int seed)
    {
        var data = new InductionDataset(tokenizer, HalfLengths[(int)((uint)seed % HalfLengths.Length)]);
        var rows = data.Generate(BatchSize, seed);
        return new TrainingBatch(tensor(rows.SelectMany(r => r).ToArray(), new long[] { BatchSize, data.SequenceLength }));
    }

    public override IReadOnlyDictionary<string, double> Evaluate(HookedTransformer model, ITokenizer tokenizer)
    {
        var data = new InductionDataset(tokenizer, halfLength: 50);
        var (first, second) = TaskMetrics.InductionLosses(model, data, data.Generate(64, HeldOutSeed));
        return new Dictionary<string, double> { ["induction_first_half_loss"] = first, ["induction_repeat_loss"] = second };
    }
}
