using Glassbox.Features;
using Glassbox.Loading;
using Glassbox.Sae;
using Xunit.Abstractions;

namespace Glassbox.Tests.Sae;

/// <summary>
/// A shortened version of the documented stories260K run (docs/sae.md: 1,024 sampled stories, 400 steps of 4,096 tokens,
/// FVU 0.072, CE loss recovered 0.984, no dead latents): a TopK SAE on a middle layer's residual stream, here
/// with d_sae 256 on a small sampled corpus for 50 steps, must already reconstruct most of the variance and the loss.
/// </summary>
public class Stories260KSaeTests(ITestOutputHelper output)
{
    [SharedFact]
    public void AShortTopKRunOnTheMiddleResidualStreamRecoversMostOfTheLoss()
    {
        using var model = ModelLoader.Load(SharedModels.Stories260K);
        var corpus = TokenCorpus.Sample(model, bos: 1, count: 64, length: 64, seed: 0);
        var config = new SaeConfig { Architecture = SaeArchitecture.TopK, DIn = 64, DSae = 256, K = 16, HookName = "blocks.2.hook_resid_post" };
        using var store = new ActivationStore(model, config.HookName, null, corpus.Take(56).ToList(), new ActivationStoreOptions { BufferTokens = 4096 });
        var (sae, result) = SaeTrainer.Train(config, store, new SaeTrainingOptions { Steps = 50, BatchTokens = 1024, LearningRate = 2e-3, DeadTokens = 30_000 });
        using (sae)
        {
            var eval = SaeEvaluation.Run(model, sae, corpus.Skip(56).ToList());
            output.WriteLine(eval.ToText());
            Assert.Equal(16, eval.L0, 6);
            Assert.True(eval.Fvu < 0.25, $"FVU {eval.Fvu:F3}");
            Assert.True(eval.CeLossRecovered > 0.8, $"CE loss recovered {eval.CeLossRecovered:F3}");
            Assert.True(eval.DeadFraction < 0.25, $"dead {eval.DeadFraction:P0}");
            Assert.True(eval.CeClean < eval.CeSae && eval.CeSae < eval.CeZeroAblation);
        }
    }
}
