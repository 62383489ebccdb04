using Glassbox.Models;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// A Hugging Face decoder family in two declarations: how its config.json maps onto a <see cref="ModelConfig"/>, and the
/// <see cref="DecoderLayout"/> table saying which tensor feeds which component.
/// </summary>
public abstract class DecoderFamily : IArchitectureAdapter
{
    public abstract IReadOnlyList<string> ModelTypes { get; }

    public abstract ModelConfig ReadConfig(HfConfig hf);

    protected abstract DecoderLayout Layout(ModelConfig cfg, ITensorSource source);

    public StateDict Convert(ModelConfig cfg, ITensorSource source) => Layout(cfg, source).Convert(cfg, source);
}
