using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>What the scalar target reads from the logits at the attributed position.</summary>
public enum TargetKind { Logit, LogProbability, Probability }

/// <summary>
/// The scalar T an attribution explains, read from the logits at the last position of the context: a token's
/// logit, log-probability or probability, minus the same quantity of a foil token when one is given
/// (contrastive, Yin &amp; Neubig 2022, arXiv 2202.10419), or any user function of the logits.
/// </summary>
public sealed record AttributionTarget
{
    public AttributionTarget(long token, TargetKind kind = TargetKind.Logit, long? foil = null)
    {
        Token = token;
        Kind = kind;
        Foil = foil;
    }

    /// <summary>A user-defined target: <paramref name="function"/> maps logits [batch, d_vocab] to scores [batch].</summary>
    public AttributionTarget(string name, Func<Tensor, Tensor> function)
    {
        Custom = function;
        CustomName = name;
    }

    public long Token { get; }
    public TargetKind Kind { get; }
    public long? Foil { get; }
    public Func<Tensor, Tensor>? Custom { get; }
    public string? CustomName { get; }

    /// <summary>True when T is a logit or a logit difference, so that it is linear in the final residual (given the frozen final norm).</summary>
    public bool IsLogit => Custom is null && Kind == TargetKind.Logit;

    /// <summary>The target with <paramref name="token"/> in place of its token (step-wise attribution keeps kind and foil).</summary>
    public AttributionTarget For(long token) => Custom is null ? new(token, Kind, Foil) : this;

    /// <summary>T for each batch row, from logits [batch, pos, d_vocab] at the last position.</summary>
    public Tensor Evaluate(Tensor logits)
    {
        var last = logits.select(1, logits.shape[1] - 1);
        if (Custom is not null) return Custom(last);
        var values = Kind switch
        {
            TargetKind.Logit => last,
            TargetKind.LogProbability => last.log_softmax(-1),
            _ => last.softmax(-1),
        };
        var t = values.select(1, Token);
        return Foil is { } foil ? t - values.select(1, foil) : t;
    }

    public void Check(int vocabSize)
    {
        foreach (var id in Foil is { } f ? new[] { Token, f } : [Token])
            if (Custom is null && (id < 0 || id >= vocabSize))
                throw new GlassboxException($"Target token id {id} is outside the vocabulary [0, {vocabSize}).");
    }

    public override string ToString() => Custom is not null ? CustomName! :
        $"{Kind.ToString().ToLowerInvariant()}({Token}{(Foil is { } f ? $" − {f}" : "")})";
}
