using Glassbox.Models;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// Mixtral (<c>mixtral</c>): a Mistral whose every MLP is a sparse mixture of experts — router
/// <c>block_sparse_moe.gate</c>, experts <c>w1</c> (gate), <c>w3</c> (up), <c>w2</c> (down); softmax over all router
/// logits, keep the top <c>num_experts_per_tok</c>, renormalise them to sum 1.
/// </summary>
public sealed class MixtralAdapter : DecoderFamily
{
    public override IReadOnlyList<string> ModelTypes { get; } = new[] { "mixtral" };

    public override ModelConfig ReadConfig(HfConfig hf) => (DecoderConfig.Read(hf) with
    {
        RotaryTheta = hf.Double("rope_theta", 1e6), // MixtralConfig's defaults, where the config leaves them out
        NormEps = hf.Double("rms_norm_eps", 1e-5),
        NExperts = hf.Int("num_local_experts"),
        ExpertsPerToken = hf.Int("num_experts_per_tok"),
        DExpert = hf.Int("intermediate_size"),
        NormTopKProb = true,
    }).WithWindow(hf, hf.OptionalInt("sliding_window")).Validated();

    protected override DecoderLayout Layout(ModelConfig c, ITensorSource src) => new()
    {
        Router = "block_sparse_moe.gate",
        ExpertNames = ["block_sparse_moe.experts.{e}.w1", "block_sparse_moe.experts.{e}.w3", "block_sparse_moe.experts.{e}.w2"],
    };
}
