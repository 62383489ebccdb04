using Glassbox.Attribution;
using Glassbox.Datasets;
using Glassbox.Loading;
using Glassbox.Tests.ModelZoo;
using TorchSharp;
using Xunit.Abstractions;

namespace Glassbox.Tests.Attribution;

public class ZooAttributionTests(ITestOutputHelper output)
{
    const string IoiPrompt = "When Mary and John went to the store , John gave a drink to";

    [Theory]
    [InlineData("attn-only-2l", "the cat sat on the mat and the dog sat on the", "mat")]
    [InlineData("ioi-gpt2-4l", IoiPrompt, "Mary")]
    [InlineData("ioi-llama-4l", IoiPrompt, "Mary")]
    public void IntegratedGradientsAreCompleteWithin1PercentAt64StepsOnTheZoo(string name, string prompt, string answer)
    {
        using var zoo = new ZooModel(name);
        var ids = zoo.Tokenizer.Encode(prompt).Select(i => (long)i).ToArray();
        var target = new AttributionTarget(zoo.Tokenizer.Encode(answer, addBos: false)[0]);
        var result = new IntegratedGradients { Steps = 64 }.Attribute(zoo.Model, ids, target);
        output.WriteLine($"{name}: completeness error {result.CompletenessError:P4}");
        Assert.True(result.CompletenessError <= 0.01, $"{name}: completeness error {result.CompletenessError:P3}");
    }

    [SharedFact]
    public void IntegratedGradientsAreCompleteWithin1PercentAt64StepsOnStories260K()
    {
        using var model = ModelLoader.Load(SharedModels.Stories260K);
        var tokenizer = ModelLoader.FindTokenizer(SharedModels.Stories260K, model.Config, SharedModels.Stories260KTokenizer)!;
        var prompt = tokenizer.Encode("Once upon a time, there was a little girl").Select(i => (long)i).ToArray();
        var continuation = Glassbox.Models.Generation.Generate(model, prompt, new() { MaxNewTokens = 3, StopToken = null })[prompt.Length..];
        var result = Attributor.Run(model, new IntegratedGradients { Steps = 64 }, prompt, continuation, new AttributionTarget(0));
        foreach (var step in result.Steps)
        {
            output.WriteLine($"stories260K: completeness error {step.CompletenessError:P4}");
            Assert.True(step.CompletenessError <= 0.01, $"completeness error {step.CompletenessError:P3}");
        }
    }

    /// <summary>
    /// At the second occurrence of a repeated random sequence, an induction circuit copies the token after the first
    /// occurrence (t − T + 1), found by matching the first occurrence itself (t − T), whose identity the previous-token head has
    /// written into position t − T + 1. Gradient × input puts the top score (the position itself excluded) on t − T + 1 at most
    /// positions; ALTI and value zeroing, which roll the mixing out through the previous-token head's write, put it on t − T,
    /// so for them the test asks for the pair {t − T, t − T + 1}. Why, measured on ALTI's layer matrices: the induction heads
    /// give row t almost all to t − T + 1 (C¹), but this model's embeddings are small next to layer 0's attention output, so
    /// position t − T + 1 after layer 0 is mostly the previous-token head's copy of t − T (C⁰), and the rollout C¹C⁰ follows it.
    /// </summary>
    [Fact]
    public void OnAttnOnly2LTheInductionSourceGetsTheTopAttribution()
    {
        using var zoo = new ZooModel("attn-only-2l");
        const int half = 20;
        var sequences = new InductionDataset(zoo.Tokenizer, halfLength: half).Generate(2, 12345);
        foreach (var (method, pairOnly) in new (IAttributionMethod, bool)[] { (new InputXGradient(), false), (new ValueZeroing(), true), (new Alti(), true) })
        {
            int after = 0, pair = 0, total = 0;
            foreach (var seq in sequences)
                for (int t = seq.Length - half; t < seq.Length - 1; t += 2)
                {
                    var scores = method.Attribute(zoo.Model, seq[..(t + 1)], new AttributionTarget(seq[t + 1])).Scores;
                    int top = Enumerable.Range(0, t).MaxBy(j => scores[j]);
                    after += top == t - half + 1 ? 1 : 0;
                    pair += top == t - half + 1 || top == t - half ? 1 : 0;
                    total++;
                }
            output.WriteLine($"{method.Name}: top source (position itself excluded) is the token after the first occurrence at {after}/{total} positions, " +
                             $"the first occurrence or the token after it at {pair}/{total}");
            Assert.True((pairOnly ? pair : after) > total / 2, $"{method.Name}: {after}/{total}, pair {pair}/{total}");
        }

        using var scope = torch.NewDisposeScope();
        var sequence = sequences[0];
        using var d = AttentionDecomposition.Run(zoo.Model, sequence);
        var c = Alti.Contributions(d);
        double FirstHalf(Func<int, double> share) => Enumerable.Range(2, half - 1).Average(share);
        double previous = FirstHalf(p => c[0][p, p - 1].ToDouble()), self = FirstHalf(p => c[0][p, p].ToDouble());
        double induction = Enumerable.Range(sequence.Length - half, half).Average(t => c[1][t, t - half + 1].ToDouble());
        double embedding = d.ResidPre(0).abs().sum([-1]).mean().ToDouble(), layer0 = d.AttnOut(0).abs().sum([-1]).mean().ToDouble();
        output.WriteLine($"ALTI C⁰: first-half position from the previous token {previous:F3}, from itself {self:F3}; C¹: second-half position from t − T + 1 " +
                         $"{induction:F3}; mean ‖x⁰‖₁ {embedding:F1} vs layer-0 attention output {layer0:F1}");
        Assert.True(previous > 0.5 && previous > 3 * self && induction > 0.8, $"C⁰ previous {previous:F3}, self {self:F3}; C¹ {induction:F3}");
    }

}
