using Glassbox.Datasets;
using Glassbox.Models;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Training.Recipes;

/// <summary>
/// Two attention-only layers trained on random token rows in which one random segment repeats, as
/// TransformerLens's attn-only toy models (Elhage et al. 2021; Olsson et al. 2022): the model can only lower
/// the loss on the repeat by in-context copying, which needs a previous-token head composing with an
/// induction head. Segment length and placement vary per row, so no fixed positional offset can stand in
/// for the mechanism; the loss counts only the predictable tokens (the repeat after its first token).
/// </summary>
public sealed class AttnOnly2L(int rowLength = 101, int maxSegment = 50) : Recipe
{
    const int BatchSize = 32, MinSegment = 5;
    readonly int RowLength = rowLength, MaxSegment = maxSegment;

    public override string Name => "attn-only-2l";
    public override string Description => "2 attention-only layers on repeated random tokens (induction)";
    public override int DefaultSteps => 1500;

    public override ModelConfig Config(ITokenizer tokenizer) => new()
    {
        Architecture = "gpt2", AttnOnly = true, NLayers = 2, DModel = 128, NHeads = 4, DMlp = 0,
        VocabSize = tokenizer.VocabSize, ContextLength = 128, Norm = NormKind.LayerNorm, Positional = PositionalKind.Learned,
        BosTokenId = tokenizer.BosId, EosTokenId = tokenizer.EosId,
    };

    public override TrainingBatch Batch(ITokenizer tokenizer, int seed)
    {
        var random = new Random(seed);
        var ids = new InductionDataset(tokenizer).TokenIds;
        int bos = tokenizer.BosId ?? throw new GlassboxException("attn-only-2l needs a tokenizer with a BOS token.");
        var rows = new long[BatchSize * RowLength];
        var mask = new float[BatchSize * (RowLength - 1)];
        for (int r = 0; r < BatchSize; r++)
        {
            var row = rows.AsSpan(r * RowLength, RowLength);
            row[0] = bos;
            for (int i = 1; i < RowLength; i++) row[i] = ids[random.Next(ids.Count)];
            int length = random.Next(MinSegment, MaxSegment + 1);
            int first = random.Next(1, RowLength - 2 * length + 1);
            int second = random.Next(first + length, RowLength - length + 1);
            row.Slice(first, length).CopyTo(row.Slice(second, length));
            // Position i predicts token i+1: the repeat's tokens second+1 .. second+length−1 are predictable.
            mask.AsSpan(r * (RowLength - 1) + second, length - 1).Fill(1);
        }
        return new TrainingBatch(tensor(rows, new long[] { BatchSize, RowLength }), tensor(mask, new long[] { BatchSize, RowLength - 1 }));
    }

    public override IReadOnlyDictionary<string, double> Evaluate(HookedTransformer model, ITokenizer tokenizer)
    {
        var data = new InductionDataset(tokenizer, halfLength: 50);
        var (first, second) = TaskMetrics.InductionLosses(model, data, data.Generate(64, HeldOutSeed));
        return new Dictionary<string, double> { ["induction_first_half_loss"] = first, ["induction_repeat_loss"] = second };
    }
}
