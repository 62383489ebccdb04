using static TorchSharp.torch;

namespace Glassbox.Loading.Adapters;

/// <summary>Reshapes checkpoint matrices into TransformerLens per-head layouts.</summary>
internal static class HeadLayout
{
    /// <summary>nn.Linear weight [heads·d_head, d_in] (out, in) → [heads, d_in, d_head].</summary>
    public static Tensor ReaderFromLinear(Tensor w, int heads, int dHead) => w.view(heads, dHead, w.shape[1]).transpose(1, 2);

    /// <summary>Input-major weight [d_in, heads·d_head] (Conv1D, x W) → [heads, d_in, d_head].</summary>
    public static Tensor ReaderFromInputMajor(Tensor w, int heads, int dHead) => w.view(w.shape[0], heads, dHead).permute(1, 0, 2);

    /// <summary>nn.Linear weight [d_model, heads·d_head] → W_O [heads, d_head, d_model].</summary>
    public static Tensor WriterFromLinear(Tensor w, int heads, int dHead) => w.t().reshape(heads, dHead, w.shape[0]);

    /// <summary>Bias [heads·d_head] → [heads, d_head].</summary>
    public static Tensor Bias(Tensor b, int heads, int dHead) => b.view(heads, dHead);
}
