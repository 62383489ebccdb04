using System.Text.Json;
using System.Text.Json.Nodes;
using Glassbox.Loading;
using Glassbox.Models;
using Glassbox.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Lens;

/// <summary>
/// Tuned lens (Belrose et al. 2023, arXiv 2303.08112): a logit lens with one learned affine translator per layer,
/// <c>TL_l(h) = N_f(h + h A_l + b_l) W_U + b_U</c>, initialised at <c>A_l = 0, b_l = 0</c> (the logit lens) and trained
/// with the model frozen to minimise <c>Σ_l E_t KL(p_L ‖ softmax(TL_l(x^l_t)))</c>: the target is the model's own final
/// distribution, not the next token.
/// </summary>
public sealed class TunedLens : IDisposable
{
    /// <summary>The <c>glassbox_format</c> metadata value of <see cref="Save"/>'s file.</summary>
    public const string FormatName = "glassbox-tuned-lens/1";

    readonly Tensor[] a, b;

    TunedLens(Tensor[] a, Tensor[] b)
    {
        (this.a, this.b) = (a, b);
        NLayers = a.Length;
        DModel = (int)b[0].shape[0];
    }

    /// <summary>An identity lens for <paramref name="model"/> (equal to the logit lens), on the model's device and dtype.</summary>
    public static TunedLens ForModel(HookedTransformer model)
    {
        int L = model.Config.NLayers, d = model.Config.DModel;
        var device = model.W_E.device;
        return new TunedLens(
            Enumerable.Range(0, L).Select(_ => zeros(d, d, model.DType, device).DetachFromDisposeScope()).ToArray(),
            Enumerable.Range(0, L).Select(_ => zeros(d, model.DType, device).DetachFromDisposeScope()).ToArray());
    }

    public int NLayers { get; }
    public int DModel { get; }

    /// <summary><c>A_l</c> [d, d], row-vector convention: the translator adds <c>h A_l</c>.</summary>
    public Tensor A(int layer) => a[layer];
    public Tensor B(int layer) => b[layer];
    public IReadOnlyList<Tensor> Parameters => a.Concat(b).ToArray();

    /// <summary><c>h + h A_l + b_l</c> for <c>h = blocks.l.hook_resid_pre</c>.</summary>
    public Tensor Translate(int layer, Tensor h) => h + matmul(h, a[layer]) + b[layer];

    public Tensor Decode(HookedTransformer model, int layer, Tensor h) => LogitLens.Decode(model, Translate(layer, h));

    /// <summary>The tuned-lens counterpart of <see cref="LogitLens.Run"/>: rows <c>resid_pre 0..L-1</c> through their translators, and <c>output</c>.</summary>
    public LensReport Run(HookedTransformer model, Tensor tokens, LensOptions? options = null)
    {
        CheckFits(model);
        var o = options ?? new LensOptions();
        using var scope = NewDisposeScope();
        tokens = LogitLens.SinglePrompt(tokens);
        int L = model.Config.NLayers;
        var (logits, cache) = model.RunWithCache(tokens, "blocks.*.hook_resid_pre");
        using (cache)
        {
            var show = o.Show ?? (id => id.ToString());
            var rows = Enumerable.Range(0, L).Select(l => $"resid_pre {l}").Append("output").ToArray();
            return LensReport.Build("tuned lens", rows, r => r < L ? Decode(model, r, cache["resid_pre", r][0]) : logits[0],
                logits[0], LogitLens.PositionLabels(tokens, show), show, o.TopK, o.Target);
        }
    }

    /// <summary>
    /// Trains an identity-initialised lens on <paramref name="tokens"/> [batch, pos]. The residual streams and final
    /// distributions are cached once (the model is frozen), then each step draws a random mini-batch of token positions.
    /// </summary>
    public static TunedLens Train(HookedTransformer model, Tensor tokens, TunedLensTraining? options = null, Action<string>? log = null)
    {
        var o = options ?? new TunedLensTraining();
        var lens = ForModel(model);
        try
        {
            using var stream = LensStream.Collect(model, tokens);
            using IOptimizer optimizer = o.Optimizer == TunedLensOptimizer.SgdNesterov
                ? new SgdNesterov(lens.Parameters, o.Momentum, o.WeightDecay)
                : new AdamW(lens.Parameters, weightDecay: o.WeightDecay);
            foreach (var p in lens.Parameters) p.requires_grad_(true);
            var generator = new Generator((ulong)o.Seed, stream.Final.device);
            long n = stream.Final.shape[0];
            for (int step = 0; step < o.Steps; step++)
            {
                using var scope = NewDisposeScope();
                var batch = randint(0, n, new long[] { Math.Min(o.BatchTokens, n) }, generator: generator, device: stream.Final.device);
                var target = stream.Final.index_select(0, batch);
                var loss = zeros(1, ScalarType.Float32, stream.Final.device);
                for (int l = 0; l < lens.NLayers; l++)
                    loss = loss + LensStream.Kl(target, lens.Decode(model, l, stream.Residual[l].index_select(0, batch)));
                optimizer.ZeroGrad();
                loss.backward();
                optimizer.ClipGradients(o.ClipNorm);
                optimizer.Step(o.LearningRate * (1 - (double)step / o.Steps));
                if (log is not null && (step == 0 || (step + 1) % Math.Max(1, o.Steps / 5) == 0))
                    log($"tuned lens step {step + 1}/{o.Steps}: Σ_l KL = {loss.ToDouble():F4} nats");
            }
            foreach (var p in lens.Parameters) p.requires_grad_(false);
            return lens;
        }
        catch
        {
            lens.Dispose();
            throw;
        }
    }

    /// <summary>Mean <c>KL(p_L ‖ lens_l)</c> per layer of the logit lens and this lens on held-out <paramref name="tokens"/> [batch, pos].</summary>
    public LensComparison Compare(HookedTransformer model, Tensor tokens)
    {
        CheckFits(model);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var stream = LensStream.Collect(model, tokens);
        var logit = new double[NLayers];
        var tuned = new double[NLayers];
        for (int l = 0; l < NLayers; l++)
        {
            logit[l] = LensStream.Kl(stream.Final, LogitLens.Decode(model, stream.Residual[l])).ToDouble();
            tuned[l] = LensStream.Kl(stream.Final, Decode(model, l, stream.Residual[l])).ToDouble();
        }
        return new LensComparison(logit, tuned, stream.Final.shape[0]);
    }

    /// <summary>
    /// Glassbox's layout: one safetensors file with <c>layers.{l}.A</c> [d, d] (row-vector convention, added as <c>h A</c>)
    /// and <c>layers.{l}.b</c> [d], and metadata <c>glassbox_format</c>, <c>n_layers</c>, <c>d_model</c>. Tensors keep their dtype, so a load is bit-exact.
    /// </summary>
    public void Save(string path)
    {
        var tensors = Enumerable.Range(0, NLayers).SelectMany(l => new[]
        {
            KeyValuePair.Create($"layers.{l}.A", a[l]), KeyValuePair.Create($"layers.{l}.b", b[l]),
        });
        SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string>
        {
            ["glassbox_format"] = FormatName, ["n_layers"] = NLayers.ToString(), ["d_model"] = DModel.ToString(),
        });
    }

    public static TunedLens Load(string path, Device? device = null)
    {
        using var file = SafeTensorsFile.Open(path);
        if (!file.Metadata.TryGetValue("glassbox_format", out var format) || format != FormatName)
            throw new ModelFormatException($"{path} is not a Glassbox tuned lens (metadata glassbox_format is '{format}', expected '{FormatName}').");
        int layers = int.Parse(file.Metadata["n_layers"]);
        return new TunedLens(
            Enumerable.Range(0, layers).Select(l => Read(file, $"layers.{l}.A", device)).ToArray(),
            Enumerable.Range(0, layers).Select(l => Read(file, $"layers.{l}.b", device)).ToArray());
    }

    /// <summary>
    /// The tuned-lens project's layout (a directory with <c>config.json</c> and the <c>layer_translators</c> state dict:
    /// <c>{l}.weight</c> = <c>A_lᵀ</c> in nn.Linear's [out, in] convention, <c>{l}.bias</c>). The state dict is written as
    /// <c>params.safetensors</c> rather than the project's pickled <c>params.pt</c>, which Glassbox never reads or writes.
    /// </summary>
    public void SaveTunedLensLayout(string directory, string baseModel)
    {
        Directory.CreateDirectory(directory);
        var tensors = Enumerable.Range(0, NLayers).SelectMany(l => new[]
        {
            KeyValuePair.Create($"{l}.weight", a[l].t().contiguous()), KeyValuePair.Create($"{l}.bias", b[l]),
        }).ToList();
        SafeTensorsWriter.Write(Path.Combine(directory, "params.safetensors"), tensors);
        foreach (var (_, t) in tensors.Where(kv => kv.Key.EndsWith(".weight"))) t.Dispose();
        var config = new JsonObject
        {
            ["base_model_name_or_path"] = baseModel, ["d_model"] = DModel, ["num_hidden_layers"] = NLayers, ["bias"] = true, ["lens_type"] = "linear_tuned_lens",
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    public static TunedLens LoadTunedLensLayout(string directory, Device? device = null)
    {
        var configPath = Path.Combine(directory, "config.json");
        var paramsPath = Path.Combine(directory, "params.safetensors");
        if (!File.Exists(paramsPath))
            throw new ModelFormatException(File.Exists(Path.Combine(directory, "params.pt"))
                ? $"{directory} holds a pickled params.pt; Glassbox reads only safetensors (convert it to params.safetensors)."
                : $"{directory} has no params.safetensors.");
        int layers = JsonNode.Parse(File.ReadAllText(configPath))?["num_hidden_layers"]?.GetValue<int>()
            ?? throw new ModelFormatException($"{configPath} has no num_hidden_layers.");
        using var file = SafeTensorsFile.Open(paramsPath);
        return new TunedLens(
            Enumerable.Range(0, layers).Select(l => { using var w = Read(file, $"{l}.weight", device); return w.t().contiguous().DetachFromDisposeScope(); }).ToArray(),
            Enumerable.Range(0, layers).Select(l => Read(file, $"{l}.bias", device)).ToArray());
    }

    static Tensor Read(SafeTensorsFile file, string name, Device? device)
    {
        if (!file.Contains(name)) throw new ModelFormatException($"{file.Path} has no tensor '{name}'.");
        return file.Read(name, device: device).DetachFromDisposeScope();
    }

    void CheckFits(HookedTransformer model)
    {
        if (model.Config.NLayers != NLayers || model.Config.DModel != DModel)
            throw new GlassboxException($"This tuned lens has {NLayers} layers of width {DModel}; the model has {model.Config.NLayers} of width {model.Config.DModel}.");
    }

    public void Dispose()
    {
        foreach (var t in a.Concat(b)) t.Dispose();
    }
}
