using Glassbox.Hooks;
using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>
/// The one transformer of Glassbox, driven by a <see cref="ModelConfig"/>: embed → blocks → final
/// norm → unembed, with a hook point (TransformerLens name) at every intermediate activation.
/// Techniques live outside: they run the model with hooks and read the cache.
/// </summary>
public sealed class HookedTransformer : IDisposable
{
    readonly List<Rotary> rotaries = new();
    readonly List<Tensor> owned = new();

    public HookedTransformer(ModelConfig config, StateDict weights, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        Config = config.Validated();
        Device = device ?? CPU;
        DType = dtype;
        Hooks = new HookRegistry();
        using var scope = NewDisposeScope();
        Tensor? Place(Tensor? t)
        {
            if (t is null) return null;
            var p = t.detach().to(dtype, Device, copy: true).contiguous().DetachFromDisposeScope();
            owned.Add(p);
            return p;
        }

        string d = $"[batch, pos, d_model={Config.DModel}]";
        W_E = Place(weights["embed.W_E"])!;
        HookEmbed = Hooks.Create("hook_embed", d, null);
        if (Config.Positional == PositionalKind.Learned)
        {
            W_pos = Place(weights["pos_embed.W_pos"]);
            HookPosEmbed = Hooks.Create("hook_pos_embed", d, null);
        }
        // One table per distinct base and scaling (Gemma 3's local and global layers differ).
        var byKind = new Dictionary<(double, RopeScaling?), Rotary>();
        Rotary? RotaryOf(int layer)
        {
            if (Config.Positional != PositionalKind.Rotary) return null;
            var key = Config.RotaryOf(layer);
            if (!byKind.TryGetValue(key, out var r)) rotaries.Add(byKind[key] = r = new Rotary(Config, key.Theta, key.Scaling, Device, dtype));
            return r;
        }
        Blocks = Enumerable.Range(0, Config.NLayers)
            .Select(l => new TransformerBlock(Config, l, weights, Hooks, RotaryOf(l), Place)).ToArray();
        LnFinal = TransformerBlock.NewNorm(Config, "ln_final", weights, Hooks, null, Place);
        W_U = Place(weights["unembed.W_U"])!;
        b_U = Place(weights.TryGet("unembed.b_U"));
        CheckShapes();
    }

    public ModelConfig Config { get; }
    public Device Device { get; }
    public ScalarType DType { get; }
    public HookRegistry Hooks { get; }

    /// <summary>[d_vocab, d_model]</summary>
    public Tensor W_E { get; }
    /// <summary>[n_ctx, d_model], learned positions only.</summary>
    public Tensor? W_pos { get; }
    public IReadOnlyList<TransformerBlock> Blocks { get; }
    public Norm LnFinal { get; }
    /// <summary>[d_model, d_vocab]</summary>
    public Tensor W_U { get; }
    public Tensor? b_U { get; }

    public HookPoint HookEmbed { get; }
    public HookPoint? HookPosEmbed { get; }

    /// <summary>Every trainable tensor (the fused weights the forward pass uses).</summary>
    public IReadOnlyList<Tensor> Parameters => owned;

    public long ParameterCount => owned.Sum(t => t.numel());

    /// <summary>
    /// Logits [batch, pos, d_vocab] for tokens [batch, pos] (or [pos]). With a <see cref="KvCache"/>, the
    /// tokens continue the cached positions and only their logits are computed.
    /// </summary>
    public Tensor Forward(Tensor tokens, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        if (tokens.dim() == 1) tokens = tokens.unsqueeze(0);
        long start = cache?.Length ?? 0;
        CheckTokens(tokens, start);
        tokens = tokens.to(ScalarType.Int64, Device);

        var x = HookEmbed.Run(W_E.index_select(0, tokens.flatten()).view(tokens.shape[0], tokens.shape[1], Config.DModel));
        if (W_pos is not null)
            x = x + HookPosEmbed!.Run(W_pos.narrow(0, start, tokens.shape[1]).expand(x.shape));
        foreach (var block in Blocks) x = block.Forward(x, start, cache);
        return Unembed(LnFinal.Forward(x)).MoveToOuterDisposeScope();
    }

    /// <summary>Logits from the final norm's output: <c>x W_U + b_U</c>, soft-capped where the model caps them (Gemma 2).</summary>
    public Tensor Unembed(Tensor normalized)
    {
        var logits = Attention.Linear(normalized, W_U, b_U);
        return Config.FinalSoftcap is { } cap ? (logits / cap).tanh() * cap : logits;
    }

    /// <summary>Runs with the given hooks registered for this call only (removed even if the call throws).</summary>
    public Tensor RunWithHooks(Tensor tokens, params (string Names, HookFn Fn)[] hooks)
    {
        var registrations = new List<IDisposable>();
        try
        {
            foreach (var (names, fn) in hooks) registrations.Add(Hooks.Add(names, fn));
            return Forward(tokens);
        }
        finally
        {
            foreach (var r in registrations) r.Dispose();
        }
    }

    /// <summary>
    /// Runs once and records activations. <paramref name="names"/>: comma-separated names or globs
    /// (null: every point except the opt-in <c>hook_result</c>). With <paramref name="keepGrad"/> the
    /// cached tensors stay in the autograd graph: call backward on a metric of the returned logits,
    /// then read <see cref="ActivationCache.Grad"/>.
    /// </summary>
    public (Tensor Logits, ActivationCache Cache) RunWithCache(Tensor tokens, string? names = null, bool keepGrad = false)
    {
        var points = names is null ? Hooks.Points.Where(p => !p.OptIn).ToList() : Hooks.Match(names);
        return RunWithCache(tokens, points, keepGrad);
    }

    public (Tensor Logits, ActivationCache Cache) RunWithCache(Tensor tokens, IReadOnlyList<HookPoint> points, bool keepGrad = false)
    {
        var cache = new ActivationCache(Hooks, keepGrad);
        var registrations = new List<IDisposable>();
        if (keepGrad)
        {
            // Weights are frozen, so start the graph at the embeddings: every later activation then has a gradient.
            HookFn leaf = (x, _) => x.requires_grad ? null : x.detach().requires_grad_(true);
            registrations.Add(Hooks.Add(new[] { HookEmbed }.Concat(HookPosEmbed is null ? [] : [HookPosEmbed]), leaf));
        }
        HookFn record = keepGrad
            ? (x, p) => { if (x.requires_grad) x.retain_grad(); cache.Add(p.Name, x.DetachFromDisposeScope()); return null; }
            : (x, p) => { cache.Add(p.Name, x.detach().DetachFromDisposeScope()); return null; };
        registrations.Add(Hooks.Add(points, record));
        try
        {
            return (Forward(tokens), cache);
        }
        catch
        {
            cache.Dispose();
            throw;
        }
        finally
        {
            foreach (var r in registrations) r.Dispose();
        }
    }

    /// <summary>Copies of the weights by TransformerLens name and shape (the input of weight processing).</summary>
    public StateDict ExportStateDict()
    {
        var sd = new StateDict();
        using var scope = NewDisposeScope();
        void Put(string name, Tensor? t) { if (t is not null) sd[name] = t.detach().clone(); }
        Put("embed.W_E", W_E);
        Put("pos_embed.W_pos", W_pos);
        foreach (var b in Blocks)
        {
            string p = $"blocks.{b.Layer}.";
            foreach (var (name, norm) in new[] { ("ln1", b.Ln1), ("ln2", b.Ln2), ("ln1_post", b.Ln1Post), ("ln2_post", b.Ln2Post), ("attn.q_norm", b.Attn.QNorm), ("attn.k_norm", b.Attn.KNorm) })
                if (norm is not null && norm.Kind != NormKind.Identity) { Put(p + name + ".w", norm.W); Put(p + name + ".b", norm.B); }
            var a = b.Attn;
            Put(p + "attn.W_Q", a.W_Q); Put(p + "attn.W_K", a.W_K); Put(p + "attn.W_V", a.W_V); Put(p + "attn.W_O", a.W_O);
            Put(p + "attn.b_Q", a.b_Q); Put(p + "attn.b_K", a.b_K); Put(p + "attn.b_V", a.b_V); Put(p + "attn.b_O", a.b_O);
            if (b.Moe is { } moe)
            {
                Put(p + "mlp.W_router", moe.W_router);
                Put(p + "mlp.experts.W_gate", moe.W_gate); Put(p + "mlp.experts.W_in", moe.W_in); Put(p + "mlp.experts.W_out", moe.W_out);
            }
            if (b.Mlp is not { } m) continue;
            Put(p + "mlp.W_in", m.W_in); Put(p + "mlp.b_in", m.b_in); Put(p + "mlp.W_gate", m.W_gate); Put(p + "mlp.b_gate", m.b_gate);
            Put(p + "mlp.W_out", m.W_out); Put(p + "mlp.b_out", m.b_out);
        }
        Put("ln_final.w", LnFinal.W); Put("ln_final.b", LnFinal.B);
        Put("unembed.W_U", W_U); Put("unembed.b_U", b_U);
        return sd;
    }

    /// <summary>Refuses a prompt of <paramref name="n"/> tokens when it is longer than the context, with the message every surface shows.</summary>
    public void CheckPromptLength(long n)
    {
        if (n > Config.ContextLength) throw new GlassboxException($"The prompt has {n} tokens but the model's context is {Config.ContextLength} tokens.");
    }

    void CheckTokens(Tensor tokens, long start)
    {
        long n = tokens.shape[1];
        if (n == 0) throw new GlassboxException("The input has no tokens.");
        if (start == 0) CheckPromptLength(n);
        else if (start + n > Config.ContextLength)
            throw new GlassboxException($"{start} cached plus {n} new tokens exceed the model's context of {Config.ContextLength} tokens.");
        long min = tokens.min().item<long>(), max = tokens.max().item<long>();
        if (min < 0 || max >= Config.VocabSize)
            throw new GlassboxException($"Token id {(min < 0 ? min : max)} is outside the vocabulary [0, {Config.VocabSize}).");
    }

    void CheckShapes()
    {
        void Expect(Tensor? t, string name, params long[] shape)
        {
            if (t is not null && !t.shape.SequenceEqual(shape))
                throw new ModelFormatException($"Weight {name} has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", shape)}] from the config.");
        }
        var c = Config;
        Expect(W_E, "embed.W_E", c.VocabSize, c.DModel);
        Expect(W_pos, "pos_embed.W_pos", c.ContextLength, c.DModel);
        Expect(W_U, "unembed.W_U", c.DModel, c.VocabSize);
        foreach (var b in Blocks)
        {
            Expect(b.Attn.Wq, $"blocks.{b.Layer}.attn.W_Q", c.DModel, c.NHeads * c.DHead);
            Expect(b.Attn.Wk, $"blocks.{b.Layer}.attn.W_K", c.DModel, c.NKvHeads * c.DHead);
            Expect(b.Attn.Wv, $"blocks.{b.Layer}.attn.W_V", c.DModel, c.NKvHeads * c.DHead);
            Expect(b.Attn.Wo, $"blocks.{b.Layer}.attn.W_O", c.NHeads * c.DHead, c.DModel);
            Expect(b.Mlp?.W_in, $"blocks.{b.Layer}.mlp.W_in", c.DModel, c.DMlp);
            Expect(b.Mlp?.W_gate, $"blocks.{b.Layer}.mlp.W_gate", c.DModel, c.DMlp);
            Expect(b.Mlp?.W_out, $"blocks.{b.Layer}.mlp.W_out", c.DMlp, c.DModel);
            Expect(b.Moe?.W_router, $"blocks.{b.Layer}.mlp.W_router", c.DModel, c.NExperts);
            Expect(b.Moe?.W_gate, $"blocks.{b.Layer}.mlp.experts.W_gate", c.NExperts, c.DModel, c.DExpert);
            Expect(b.Moe?.W_in, $"blocks.{b.Layer}.mlp.experts.W_in", c.NExperts, c.DModel, c.DExpert);
            Expect(b.Moe?.W_out, $"blocks.{b.Layer}.mlp.experts.W_out", c.NExperts, c.DExpert, c.DModel);
            foreach (var (norm, name) in new[] { (b.Ln1, "ln1"), (b.Ln2, "ln2"), (b.Ln1Post, "ln1_post"), (b.Ln2Post, "ln2_post") })
                Expect(norm?.W, $"blocks.{b.Layer}.{name}.w", c.DModel);
            long qWidth = c.QkNorm == QkNormKind.Joint ? c.NHeads * c.DHead : c.DHead, kWidth = c.QkNorm == QkNormKind.Joint ? c.NKvHeads * c.DHead : c.DHead;
            Expect(b.Attn.QNorm?.W, $"blocks.{b.Layer}.attn.q_norm.w", qWidth);
            Expect(b.Attn.KNorm?.W, $"blocks.{b.Layer}.attn.k_norm.w", kWidth);
        }
    }

    public void Dispose()
    {
        foreach (var t in owned) t.Dispose();
        owned.Clear();
        foreach (var r in rotaries) r.Dispose();
    }
}
