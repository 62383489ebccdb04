using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Loading;

/// <summary>
/// Karpathy's llama2.c checkpoints: the legacy format (seven int32 header fields, then float32
/// arrays) and version 1 ("ak42" magic, 256-byte header). Matrices are [out, in]; RoPE rotates
/// adjacent pairs, so the model keeps <see cref="RotaryLayout.Pairs"/>. A negative vocab_size in the
/// legacy header means an unshared classifier follows the weights.
/// </summary>
public static class Llama2cCheckpoint
{
    const uint Magic = 0x616b3432; // "ak42"

    public static (ModelConfig Config, StateDict Weights) Load(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException($"{path}: file not found.");
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        if (stream.Length < 28) throw new ModelFormatException($"{path}: {stream.Length} bytes is too short for a llama2.c header.");

        int version = 0;
        if (reader.ReadUInt32() == Magic)
        {
            version = reader.ReadInt32();
            if (version != 1) throw new ModelFormatException($"{path}: llama2.c format version {version} is not supported (only legacy and version 1; version 2 is int8-quantised).");
        }
        else stream.Position = 0;

        int[] h = Enumerable.Range(0, 7).Select(_ => reader.ReadInt32()).ToArray();
        int dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kvHeads = h[4], vocab = h[5], seqLen = h[6];
        bool shared;
        if (version == 1)
        {
            shared = reader.ReadByte() != 0;
            stream.Position = 256;
        }
        else
        {
            shared = vocab > 0;
            vocab = Math.Abs(vocab);
        }
        if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab <= 0 || seqLen <= 0 || dim % heads != 0 || heads % kvHeads != 0)
            throw new ModelFormatException($"{path}: implausible llama2.c header (dim {dim}, hidden_dim {hidden}, n_layers {layers}, n_heads {heads}, n_kv_heads {kvHeads}, vocab_size {vocab}, seq_len {seqLen}).");

        var cfg = new ModelConfig
        {
            Architecture = "llama2c",
            NLayers = layers, DModel = dim, NHeads = heads, NKvHeads = kvHeads, DMlp = hidden,
            VocabSize = vocab, ContextLength = seqLen,
            Norm = NormKind.RmsNorm, NormEps = 1e-5,
            Positional = PositionalKind.Rotary, RotaryLayout = RotaryLayout.Pairs, RotaryTheta = 10000,
            Act = Activation.Silu, GatedMlp = true, TiedEmbeddings = shared,
            BosTokenId = 1, EosTokenId = 2,
        }.Validated();

        int dh = cfg.DHead, kvDim = kvHeads * dh;
        long L = layers;
        long floats = version == 1
            ? 2 * L * dim + dim + (long)vocab * dim + L * dim * (2L * dim + 2L * kvDim) + 3 * L * dim * hidden + (shared ? 0 : (long)vocab * dim)
            : (long)vocab * dim + 2 * L * dim + L * dim * (2L * dim + 2L * kvDim) + 3 * L * dim * hidden + dim + (long)seqLen * dh + (shared ? 0 : (long)vocab * dim);
        long need = stream.Position + floats * 4;
        if (stream.Length < need)
            throw new ModelFormatException($"{path}: truncated llama2.c checkpoint: the header implies {need} bytes but the file has {stream.Length}.");

        Tensor Next(params long[] shape)
        {
            long n = shape.Aggregate(1L, (a, b) => a * b);
            var data = new float[n];
            var bytes = reader.ReadBytes(checked((int)(n * 4)));
            Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
            return tensor(data, shape);
        }

        var sd = new StateDict();
        using var scope = NewDisposeScope();
        Tensor embed, attnNorm, ffnNorm, finalNorm, wq, wk, wv, wo, w1, w2, w3;
        if (version == 1)
        {
            attnNorm = Next(L, dim); ffnNorm = Next(L, dim); finalNorm = Next(dim); embed = Next(vocab, dim);
            wq = Next(L, dim, dim); wk = Next(L, kvDim, dim); wv = Next(L, kvDim, dim); wo = Next(L, dim, dim);
            w1 = Next(L, hidden, dim); w2 = Next(L, dim, hidden); w3 = Next(L, hidden, dim);
        }
        else
        {
            embed = Next(vocab, dim); attnNorm = Next(L, dim);
            wq = Next(L, dim, dim); wk = Next(L, kvDim, dim); wv = Next(L, kvDim, dim); wo = Next(L, dim, dim);
            ffnNorm = Next(L, dim); w1 = Next(L, hidden, dim); w2 = Next(L, dim, hidden); w3 = Next(L, hidden, dim);
            finalNorm = Next(dim);
            stream.Seek((long)seqLen * dh * 4, SeekOrigin.Current); // precomputed RoPE tables, recomputed by the runtime
        }
        var classifier = shared ? embed : Next(vocab, dim);

        sd["embed.W_E"] = embed;
        for (int l = 0; l < layers; l++)
        {
            string b = $"blocks.{l}.";
            sd[b + "ln1.w"] = attnNorm[l];
            sd[b + "attn.W_Q"] = Adapters.HeadLayout.ReaderFromLinear(wq[l], heads, dh);
            sd[b + "attn.W_K"] = Adapters.HeadLayout.ReaderFromLinear(wk[l], kvHeads, dh);
            sd[b + "attn.W_V"] = Adapters.HeadLayout.ReaderFromLinear(wv[l], kvHeads, dh);
            sd[b + "attn.W_O"] = Adapters.HeadLayout.WriterFromLinear(wo[l], heads, dh);
            sd[b + "ln2.w"] = ffnNorm[l];
            sd[b + "mlp.W_gate"] = w1[l].t();
            sd[b + "mlp.W_in"] = w3[l].t();
            sd[b + "mlp.W_out"] = w2[l].t();
        }
        sd["ln_final.w"] = finalNorm;
        sd["unembed.W_U"] = classifier.t();
        return (cfg, sd);
    }
}
