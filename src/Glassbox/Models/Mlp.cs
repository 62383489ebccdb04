using Glassbox.Hooks;
using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>
/// The MLP: <c>post = act(x W_in + b_in)</c>, or gated <c>post = act(x W_gate) ⊙ (x W_in)</c>; output <c>post W_out + b_out</c>.
/// </summary>
public sealed class Mlp
{
    readonly Activation act;

    internal Mlp(ModelConfig cfg, Tensor wIn, Tensor? bIn, Tensor? wGate, Tensor? bGate, Tensor wOut, Tensor? bOut, HookRegistry hooks, int layer)
    {
        act = cfg.Act;
        (W_in, b_in, W_gate, b_gate, W_out, b_out) = (wIn, bIn, wGate, bGate, wOut, bOut);
        string p = $"blocks.{layer}.mlp.", shape = $"[batch, pos, d_mlp={cfg.DMlp}]";
        HookPre = hooks.Create(p + "hook_pre", shape, layer);
        if (wGate is not null) HookPreLinear = hooks.Create(p + "hook_pre_linear", shape, layer);
        HookPost = hooks.Create(p + "hook_post", shape, layer);
    }

    /// <summary>[d_model, d_mlp]</summary>
    public Tensor W_in { get; }
    public Tensor? b_in { get; }
    /// <summary>[d_model, d_mlp], gated MLPs only.</summary>
    public Tensor? W_gate { get; }
    public Tensor? b_gate { get; }
    /// <summary>[d_mlp, d_model]</summary>
    public Tensor W_out { get; }
    public Tensor? b_out { get; }

    public HookPoint HookPre { get; }
    public HookPoint? HookPreLinear { get; }
    public HookPoint HookPost { get; }

    public Tensor Forward(Tensor x)
    {
        Tensor post;
        if (W_gate is null)
        {
            post = HookPost.Run(Apply(HookPre.Run(Attention.Linear(x, W_in, b_in))));
        }
        else
        {
            var gate = HookPre.Run(Attention.Linear(x, W_gate, b_gate));
            var linear = HookPreLinear!.Run(Attention.Linear(x, W_in, b_in));
            post = HookPost.Run(Apply(gate) * linear);
        }
        return Attention.Linear(post, W_out, b_out);
    }

    Tensor Apply(Tensor x) => Activate(act, x);

    internal static Tensor Activate(Activation act, Tensor x) => act switch
    {
        // GPT-2's tanh approximation: 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))
        Activation.GeluNew => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        Activation.Gelu => nn.functional.gelu(x),
        Activation.Relu => nn.functional.relu(x),
        Activation.Silu => nn.functional.silu(x),
        _ => throw new InvalidOperationException(act.ToString()),
    };
}
