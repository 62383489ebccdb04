using static TorchSharp.torch;

namespace Glassbox.Weights;

/// <summary>
/// A matrix kept as the product <c>M = Left · Right</c> of <c>[…, m, k]</c> and <c>[…, k, n]</c> factors, never materialised
/// (Elhage et al. 2021 keep the OV and QK circuits, and the <c>[V, V]</c> full circuits, this way). Leading dimensions batch
/// (e.g. one matrix per head). Everything runs in the inner <c>k × k</c> space: <c>‖M‖_F² = tr((LᵀL)(RRᵀ))</c>; the SVD
/// from the QR factors, <c>L = Q_L R_L</c>, <c>Rᵀ = Q_R R_R</c>, <c>M = Q_L (R_L R_Rᵀ) Q_Rᵀ</c>; the non-zero eigenvalues of
/// a square <c>M</c> are those of <c>Right · Left</c>.
/// </summary>
public sealed class FactoredMatrix
{
    public FactoredMatrix(Tensor left, Tensor right)
    {
        if (left.dim() < 2 || right.dim() < 2 || left.shape[^1] != right.shape[^2])
            throw new ArgumentException($"Factors [{string.Join(", ", left.shape)}] and [{string.Join(", ", right.shape)}] do not multiply.");
        Left = left;
        Right = right;
    }

    public Tensor Left { get; }
    public Tensor Right { get; }
    public long Rows => Left.shape[^2];
    public long Columns => Right.shape[^1];
    public long Inner => Left.shape[^1];

    /// <summary>The product, materialised: <c>[…, m, n]</c>.</summary>
    public Tensor Dense() => Left.matmul(Right);

    public FactoredMatrix Transpose() => new(Right.mT, Left.mT);

    /// <summary><c>this · other</c>, keeping the smaller of the two inner dimensions.</summary>
    public FactoredMatrix Then(FactoredMatrix other) => Inner <= other.Inner
        ? new(Left, Right.matmul(other.Left).matmul(other.Right))
        : new(Left.matmul(Right.matmul(other.Left)), other.Right);

    /// <summary><c>this · dense</c>.</summary>
    public FactoredMatrix Then(Tensor dense) => new(Left, Right.matmul(dense));

    /// <summary><c>dense · this</c>.</summary>
    public FactoredMatrix After(Tensor dense) => new(dense.matmul(Left), Right);

    /// <summary>Frobenius norm per matrix, <c>[…]</c>: <c>sqrt(Σ (LᵀL) ∘ (RRᵀ))</c> (both Gram matrices are symmetric).</summary>
    public Tensor FrobeniusNorm() => (Left.mT.matmul(Left) * Right.matmul(Right.mT)).sum(new long[] { -2, -1 }).clamp_min(0).sqrt();

    /// <summary>Thin SVD, <c>M = U diag(S) Vh</c> with <c>U [… , m, r]</c>, <c>S [… , r]</c>, <c>Vh [… , r, n]</c>, r = min(m, k, n), S descending.</summary>
    public (Tensor U, Tensor S, Tensor Vh) Svd()
    {
        var (qLeft, rLeft) = linalg.qr(Left);
        var (qRight, rRight) = linalg.qr(Right.mT);
        var (u, s, vh) = linalg.svd(rLeft.matmul(rRight.mT), fullMatrices: false);
        return (qLeft.matmul(u), s, vh.matmul(qRight.mT));
    }

    /// <summary>The k eigenvalues of <c>Right · Left</c> (complex), which are the non-zero eigenvalues of the square <c>M</c> padded with zeros.</summary>
    public Tensor Eigenvalues()
    {
        if (Rows != Columns) throw new InvalidOperationException($"Eigenvalues need a square matrix; this one is {Rows}×{Columns}.");
        return linalg.eigvals(Right.matmul(Left));
    }

    /// <summary>Rows <paramref name="index"/> of the product, materialised: <c>[…, |index|, n]</c>.</summary>
    public Tensor RowsAt(Tensor index) => Left.index_select(-2, index).matmul(Right);

    /// <summary>The diagonal of a square product, <c>[…, m]</c>, without forming it.</summary>
    public Tensor Diagonal() => (Left * Right.mT).sum(-1);

    /// <summary>
    /// The <paramref name="count"/> largest (or most negative) entries of a 2-D product as (row, column, value), best first,
    /// materialising <paramref name="rowChunk"/> rows at a time so a <c>[V, V]</c> circuit never exists whole.
    /// </summary>
    public IReadOnlyList<(long Row, long Column, double Value)> TopEntries(int count, bool largest = true, int rowChunk = 1024)
    {
        if (Left.dim() != 2) throw new InvalidOperationException("TopEntries takes one matrix, not a stack.");
        var best = new List<(long Row, long Column, double Value)>();
        for (long start = 0; start < Rows; start += rowChunk)
        {
            using var scope = NewDisposeScope();
            long end = Math.Min(Rows, start + rowChunk);
            var block = Left.narrow(0, start, end - start).matmul(Right).to(ScalarType.Float64);
            var (values, flat) = block.flatten().topk((int)Math.Min(count, block.numel()), largest: largest);
            var v = values.cpu().data<double>().ToArray();
            var f = flat.cpu().data<long>().ToArray();
            for (int i = 0; i < v.Length; i++) best.Add((start + f[i] / Columns, f[i] % Columns, v[i]));
            best = (largest ? best.OrderByDescending(e => e.Value) : best.OrderBy(e => e.Value)).Take(count).ToList();
        }
        return best;
    }
}
