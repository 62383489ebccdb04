namespace Glassbox.Hooks;

/// <summary>
/// Full hook names from TransformerLens shorthands (its <c>utils.get_act_name</c>):
/// <c>Full("pattern", 3)</c> → <c>blocks.3.attn.hook_pattern</c>, <c>Full("scale", 2, "ln1")</c> →
/// <c>blocks.2.ln1.hook_scale</c>, <c>Full("embed")</c> → <c>hook_embed</c>.
/// </summary>
public static class HookNames
{
    static readonly HashSet<string> AttnPoints = new() { "q", "k", "v", "rot_q", "rot_k", "attn_scores", "pattern", "z", "result" };
    static readonly HashSet<string> MlpPoints = new() { "pre", "pre_linear", "post" };
    static readonly HashSet<string> BlockPoints = new() { "resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_in", "mlp_out", "attn_in", "q_input", "k_input", "v_input" };
    static readonly Dictionary<string, string> Aliases = new()
    {
        ["attn"] = "pattern", ["attn_logits"] = "attn_scores", ["scores"] = "attn_scores",
        ["q_rot"] = "rot_q", ["k_rot"] = "rot_k",
    };

    public static string Full(string shortName, int? layer = null, string? sublayer = null)
    {
        if (shortName.Contains('.') || shortName.StartsWith("hook_", StringComparison.Ordinal)) return shortName;
        var n = Aliases.GetValueOrDefault(shortName, shortName);
        if (layer is null)
        {
            return n switch
            {
                "embed" or "pos_embed" => "hook_" + n,
                "scale" or "normalized" => $"ln_final.hook_{n}",
                _ => throw new GlassboxException($"The hook shorthand '{shortName}' needs a layer (e.g. cache[\"{shortName}\", 0])."),
            };
        }
        if (AttnPoints.Contains(n)) return $"blocks.{layer}.attn.hook_{n}";
        if (MlpPoints.Contains(n)) return $"blocks.{layer}.mlp.hook_{n}";
        if (BlockPoints.Contains(n)) return $"blocks.{layer}.hook_{n}";
        if (n is "scale" or "normalized") return $"blocks.{layer}.{sublayer ?? "ln1"}.hook_{n}";
        throw new GlassboxException($"Unknown hook shorthand '{shortName}'. Known: {string.Join(", ", AttnPoints.Concat(MlpPoints).Concat(BlockPoints).Concat(new[] { "embed", "pos_embed", "scale", "normalized" }))}.");
    }
}
