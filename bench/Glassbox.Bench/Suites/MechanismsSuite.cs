using Glassbox.Bench.Harness;
using Glassbox.Mechanisms;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Bench.Suites;

/// <summary>
/// Issue 8: the whole <c>glassbox mechanisms</c> report (pattern and weight scores, the zero-ablation sweep over every head, group
/// ablations, residual and neuron statistics) on a GPT-2-small-shaped random model, as a ratio to one forward pass over the same
/// probe batch, both timed in this run. The random model has no tokenizer, so token ids stand in for words and the IOI and
/// successor probes (which need real words) are skipped.
/// </summary>
public sealed class MechanismsSuite : ISuite
{
    public string Name => "mechanisms";
    public string Description => "time of the whole mechanisms report ÷ one forward pass (issue 8)";

    public const string ReportRatio = "mechanisms report ÷ forward";

    public void Run(BenchContext ctx)
    {
        bool quick = ctx.Quick;
        var cfg = (quick ? BenchModels.Tiny : BenchModels.Gpt2Small).Validated();
        var options = new MechanismOptions { Sequences = 2, HalfLength = quick ? 20 : 50 };
        var (warmup, reps) = ctx.Options.Repetitions(quick: (1, 3), full: (1, 3));
        ctx.Log($"mechanisms: building {cfg.Architecture}");
        using var model = BenchModels.Create(cfg);
        var tokenizer = new IdTokenizer(cfg.VocabSize);
        using var tokens = BenchModels.Tokens(cfg, options.Sequences, 2 * options.HalfLength); // the probe batch's shape (no BOS)
        ctx.Log($"mechanisms: timing the forward pass, {warmup} warm-up + {reps} rounds");
        var forward = Measure.Interleaved(warmup, reps, [new Variant("forward", () => { using var _ = NewDisposeScope(); model.Forward(tokens); })],
            m => ctx.Log("mechanisms: " + m))[0];
        MechanismsReport? report = null;
        ctx.Log("mechanisms: timing the report once");
        var whole = Measure.Interleaved(0, 1, [new Variant("mechanisms report", () => report = MechanismDetector.Run(model, tokenizer, options))],
            m => ctx.Log("mechanisms: " + m))[0];

        var o = ctx.Out;
        o.WriteLine("## mechanisms");
        o.WriteLine();
        o.WriteLine($"Model: {cfg} (random weights), float32, CPU. Probe: {options.Sequences} repeated random sequences of 2 × {options.HalfLength} tokens " +
                    $"(no BOS); the forward pass runs on a batch of that shape. The report runs {cfg.NLayers * cfg.NHeads} single-head ablations plus {report!.Groups.Count} group ablations. " +
                    $"The forward pass is the median of {forward.Samples.Count} rounds after a warm-up; the report, which is mostly forward passes, runs once after them.");
        o.WriteLine();
        var table = new MarkdownTable("metric", "value");
        table.Row("forward (ms)", Fmt.Num(forward.MedianMs));
        table.Row("mechanisms report (ms)", Fmt.Num(whole.MedianMs));
        table.Row(ReportRatio, Fmt.Num(whole.MedianMs / forward.MedianMs));
        table.Row("flagged heads", report.Findings.Count.ToString());
        o.Write(table);
    }

    /// <summary>Token ids as their own text: enough for repeated random sequences; no word is a single token, so word probes are skipped.</summary>
    sealed class IdTokenizer(int vocabSize) : ITokenizer
    {
        public int VocabSize => vocabSize;
        public int? BosId => null;
        public int? EosId => null;
        public bool AddsBos => false;
        public int[] Encode(string text, bool addBos = true) => [.. text.Select(c => c % vocabSize)];
        public string Decode(IEnumerable<int> ids) => string.Join(" ", ids);
        public string TokenText(int id) => id.ToString();
        public string Display(int id) => id.ToString();
        public int? TokenToId(string piece) => int.TryParse(piece, out int id) && id < vocabSize ? id : null;
    }
}
