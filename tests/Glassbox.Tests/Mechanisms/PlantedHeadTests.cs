using Glassbox.Mechanisms;
using Glassbox.Models;
using Glassbox.Tests.ModelZoo;
using static TorchSharp.torch;

namespace Glassbox.Tests.Mechanisms;

/// <summary>Techniques §8.1: in a planted model, only the head given an exact previous-token pattern is flagged.</summary>
public class PlantedHeadTests
{
    [Fact]
    public void OnlyThePlantedPreviousTokenHeadIsFlagged()
    {
        using var zoo = new ZooModel("attn-only-2l");
        using var weights = RandomInit.Create(zoo.Model.Config, 11);
        using var model = new HookedTransformer(zoo.Model.Config, weights);
        // L1H2 attends from every position to the one before it (position 0 to itself); every other head keeps its random pattern.
        using var planted = model.Hooks.Add("blocks.1.attn.hook_pattern", (p, _) =>
        {
            long n = p.shape[^1];
            var previous = eye(n, dtype: p.dtype, device: p.device).roll(-1, 1).tril();
            previous[0, 0] = 1;
            var q = p.clone();
            q[.., 2] = previous;
            return q;
        });
        var report = MechanismDetector.Run(model, zoo.Tokenizer, new MechanismOptions { Sequences = 4 });
        Assert.Equal(["L1H2"], report.Labelled("previous-token").Select(x => x.Name).ToArray());
    }
}
