using System.Text.Json;
using Glassbox.Loading;
using Glassbox.Tests.Cli;
using static TorchSharp.torch;

namespace Glassbox.Tests.Families;

/// <summary>Every Hugging Face family against its independent float64 reference (../shared/reference/hf).</summary>
public class HfReferenceTests
{
    [SharedTheory]
    [MemberData(nameof(HfReferences.Names), MemberType = typeof(HfReferences))]
    public void ScoreJsonMatchesTheReferenceTokenLogProbs(string family)
    {
        foreach (var c in HfReferences.Cases(family).Where(c => c.Tokens.Length >= 2))
        {
            var (exit, stdout, stderr) = CliHarness.Run("score", "--model", HfReferences.Dir(family), "--ids", string.Join(",", c.Tokens), "--json");
            Assert.True(exit == 0, $"{family}: exit {exit}: {stderr}");
            var got = JsonDocument.Parse(stdout[stdout.IndexOf('{')..]).RootElement.GetProperty("logprobs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(c.TokenLogProbs.Length, got.Length);
            double worst = c.TokenLogProbs.Zip(got, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst < 1e-4, $"{family}, {c.Tokens.Length} tokens: max |Δ log p| = {worst:g3}");
        }
    }

    [SharedTheory]
    [MemberData(nameof(HfReferences.Names), MemberType = typeof(HfReferences))]
    public void EveryPositionsWholeDistributionMatchesTheReference(string family)
    {
        using var model = ModelLoader.Load(HfReferences.Dir(family));
        foreach (var c in HfReferences.Cases(family))
        {
            using var scope = NewDisposeScope();
            var logProbs = model.Forward(tensor(c.Tokens.Select(t => (long)t).ToArray())).log_softmax(-1)[0];
            Assert.Equal(c.Shape.Select(s => (long)s), logProbs.shape);
            double worst = (logProbs - tensor(c.LogProbs).view(c.Shape[0], c.Shape[1])).abs().max().item<float>();
            Assert.True(worst < 1e-4, $"{family}, {c.Tokens.Length} tokens: max |Δ log p| over the vocabulary = {worst:g3}");
            Assert.Equal(c.ArgMax.Select(a => (long)a), logProbs.argmax(-1).data<long>().ToArray());
        }
    }
}
