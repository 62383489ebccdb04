using Glassbox.Datasets;
using Glassbox.Models;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Training.Recipes;

/// <summary>
/// The IOI zoo models' data: indirect-object sentences completed with the indirect object (Wang et al. 2022),
/// greater-than sentences completed with a later year (Hanna et al. 2023), and simple grammar stories, one
/// document per row (BOS … EOS), padded, with padding masked out of the loss. The architecture is the subclass's.
/// </summary>
public abstract class IoiMixture : Recipe
{
    const int BatchSize = 32, Context = 64;

    public override int DefaultSteps => 2500;

    protected ModelConfig Shape(ITokenizer tokenizer) => new()
    {
        Architecture = "gpt2", NLayers = 4, DModel = 128, NHeads = 4, DMlp = 384, VocabSize = tokenizer.VocabSize, ContextLength = Context,
        BosTokenId = tokenizer.BosId, EosTokenId = tokenizer.EosId,
    };

    public override TrainingBatch Batch(ITokenizer tokenizer, int seed)
    {
        var random = new Random(seed);
        var ioi = new IoiDataset(tokenizer).Generate(BatchSize / 2, seed);
        var greaterThan = new GreaterThanDataset(tokenizer);
        var years = greaterThan.Generate(BatchSize / 4, seed);
        var stories = new StoryGrammar(DatasetText.StyleFor(tokenizer), maxSentences: 4).Generate(BatchSize - ioi.Count - years.Count, seed);
        int eos = tokenizer.EosId ?? throw new GlassboxException("The IOI mixture needs a tokenizer with an end-of-sequence token.");
        int period = tokenizer.Encode(".", addBos: false).Single();

        var rows = new List<int[]>();
        rows.AddRange(ioi.Select(p => p.Ids.Append(p.IoToken).Append(period).Append(eos).ToArray()));
        rows.AddRange(years.Select(p => p.Ids.Append(greaterThan.YearTokenIds[random.Next(p.Yy + 1, 100)]).Append(period).Append(eos).ToArray()));
        rows.AddRange(stories.Select(s => tokenizer.Encode(s).Append(eos).Take(Context).ToArray()));
        return Padded(rows, tokenizer.TokenToId(ZooVocabulary.Pad) ?? 0);
    }

    /// <summary>Rows padded to the longest; the mask keeps predictions of real tokens only.</summary>
    static TrainingBatch Padded(List<int[]> rows, int pad)
    {
        int length = rows.Max(r => r.Length);
        var tokens = new long[rows.Count * length];
        var mask = new float[rows.Count * (length - 1)];
        for (int r = 0; r < rows.Count; r++)
            for (int i = 0; i < length; i++)
            {
                tokens[r * length + i] = i < rows[r].Length ? rows[r][i] : pad;
                if (i > 0) mask[r * (length - 1) + i - 1] = i < rows[r].Length ? 1 : 0;
            }
        return new TrainingBatch(tensor(tokens, new long[] { rows.Count, length }), tensor(mask, new long[] { rows.Count, length - 1 }));
    }

    public override IReadOnlyDictionary<string, double> Evaluate(HookedTransformer model, ITokenizer tokenizer)
    {
        var (ioiAccuracy, logitDiff) = TaskMetrics.Ioi(model, new IoiDataset(tokenizer).Generate(200, HeldOutSeed));
        var greaterThan = new GreaterThanDataset(tokenizer);
        var (gtAccuracy, probDiff) = TaskMetrics.GreaterThan(model, greaterThan, greaterThan.Generate(200, HeldOutSeed));
        return new Dictionary<string, double>
        {
            ["ioi_accuracy"] = ioiAccuracy, ["ioi_logit_diff"] = logitDiff,
            ["greater_than_accuracy"] = gtAccuracy, ["greater_than_prob_diff"] = probDiff,
        };
    }
}

/// <summary>The IOI mixture on GPT-2's architecture: LayerNorm, learned positions, gelu_new.</summary>
public sealed class IoiGpt2_4L : IoiMixture
{
    public override string Name => "ioi-gpt2-4l";
    public override string Description => "GPT-2 architecture, 4 layers, on IOI + greater-than + grammar text";
    public override ModelConfig Config(ITokenizer tokenizer) => Shape(tokenizer);
}

/// <summary>The IOI mixture on Llama's architecture: RMSNorm, rotate-half RoPE, SwiGLU, grouped-query attention.</summary>
public sealed class IoiLlama4L : IoiMixture
{
    public override string Name => "ioi-llama-4l";
    public override string Description => "Llama architecture (RMSNorm, RoPE, SwiGLU, GQA), 4 layers, on IOI + greater-than + grammar text";
    /// <summary>IOI emerges later on this architecture: at chance until ~2,500 steps, 96.5 % by 3,000 (of a 4,000-step schedule).</summary>
    public override int DefaultSteps => 4000;
    public override ModelConfig Config(ITokenizer tokenizer) => Shape(tokenizer) with
    {
        Architecture = "llama", NKvHeads = 2, DMlp = 256, Norm = NormKind.RmsNorm, Positional = PositionalKind.Rotary,
        RotaryLayout = RotaryLayout.Halves, Act = Activation.Silu, GatedMlp = true,
    };
}
