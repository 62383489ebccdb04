using System.Buffers.Binary;

namespace Glassbox.Tests.Reference;

/// <summary>
/// A llama2.c legacy checkpoint read as it is laid out on disk (see ../shared/models/README.md):
/// seven int32 header fields, then float32 arrays; matrices are row-major [out, in], q/k rows in the
/// adjacent-pairs rotary layout. Per-layer arrays are split into one float[] per layer.
/// </summary>
public sealed class Llama2cCheckpoint
{
    public int Dim { get; private init; }
    public int HiddenDim { get; private init; }
    public int NLayers { get; private init; }
    public int NHeads { get; private init; }
    public int NKvHeads { get; private init; }
    public int VocabSize { get; private init; }
    public int SeqLen { get; private init; }
    /// <summary>True when the header's vocab_size is positive: the classifier is the token embedding.</summary>
    public bool SharedClassifier { get; private init; }

    public int HeadSize => Dim / NHeads;
    public int KvDim => Dim * NKvHeads / NHeads;

    public float[] TokenEmbedding { get; private init; } = [];   // [vocab, dim]
    public float[][] RmsAttention { get; private init; } = [];   // [layer][dim]
    public float[][] Wq { get; private init; } = [];             // [layer][dim, dim]
    public float[][] Wk { get; private init; } = [];             // [layer][kv_dim, dim]
    public float[][] Wv { get; private init; } = [];             // [layer][kv_dim, dim]
    public float[][] Wo { get; private init; } = [];             // [layer][dim, dim]
    public float[][] RmsFfn { get; private init; } = [];         // [layer][dim]
    public float[][] W1 { get; private init; } = [];             // [layer][hidden, dim] (gate)
    public float[][] W2 { get; private init; } = [];             // [layer][dim, hidden] (down)
    public float[][] W3 { get; private init; } = [];             // [layer][hidden, dim] (up)
    public float[] RmsFinal { get; private init; } = [];         // [dim]
    public float[] Classifier { get; private init; } = [];       // [vocab, dim]

    public const double RmsNormEps = 1e-5;
    public const double RopeTheta = 10000;

    public static Llama2cCheckpoint Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int position = 0;
        int ReadInt() { int v = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position)); position += 4; return v; }
        float[] ReadFloats(int count)
        {
            if (position + 4L * count > bytes.Length) throw new InvalidDataException($"{path} ends early (needs {count} more floats at byte {position}).");
            var values = new float[count];
            for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(position + 4 * i));
            position += 4 * count;
            return values;
        }

        int dim = ReadInt(), hidden = ReadInt(), layers = ReadInt(), heads = ReadInt(), kvHeads = ReadInt(), vocab = ReadInt(), seqLen = ReadInt();
        bool shared = vocab > 0;
        vocab = Math.Abs(vocab);
        int headSize = dim / heads, kvDim = dim * kvHeads / heads;
        float[][] PerLayer(int size) => Enumerable.Range(0, layers).Select(_ => ReadFloats(size)).ToArray();

        var embedding = ReadFloats(vocab * dim);
        var rmsAtt = PerLayer(dim);
        var wq = PerLayer(dim * dim);
        var wk = PerLayer(kvDim * dim);
        var wv = PerLayer(kvDim * dim);
        var wo = PerLayer(dim * dim);
        var rmsFfn = PerLayer(dim);
        var w1 = PerLayer(hidden * dim);
        var w2 = PerLayer(dim * hidden);
        var w3 = PerLayer(hidden * dim);
        var rmsFinal = ReadFloats(dim);
        ReadFloats(seqLen * headSize / 2); // freq_cis_real (unused)
        ReadFloats(seqLen * headSize / 2); // freq_cis_imag (unused)
        var classifier = shared ? embedding : ReadFloats(vocab * dim);
        if (position != bytes.Length) throw new InvalidDataException($"{path} has {bytes.Length - position} bytes after the last array.");

        return new Llama2cCheckpoint
        {
            Dim = dim, HiddenDim = hidden, NLayers = layers, NHeads = heads, NKvHeads = kvHeads, VocabSize = vocab, SeqLen = seqLen,
            SharedClassifier = shared, TokenEmbedding = embedding, RmsAttention = rmsAtt, Wq = wq, Wk = wk, Wv = wv, Wo = wo,
            RmsFfn = rmsFfn, W1 = w1, W2 = w2, W3 = w3, RmsFinal = rmsFinal, Classifier = classifier,
        };
    }
}
