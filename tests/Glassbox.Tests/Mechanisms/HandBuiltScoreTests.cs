using Glassbox.Mechanisms;
using Glassbox.Weights;
using static TorchSharp.torch;

namespace Glassbox.Tests.Mechanisms;

/// <summary>Every detector's score on a hand-built attention pattern, weight matrix or activation where the answer is known exactly.</summary>
public class HandBuiltScoreTests
{
    const int Pos = 8;

    /// <summary>A [1, head, query, key] pattern whose head h attends query i to key <c>target(h, i)</c> with weight 1.</summary>
    static Tensor OneHot(params Func<int, int>[] targets)
    {
        var p = zeros(1, targets.Length, Pos, Pos, dtype: ScalarType.Float64);
        for (int h = 0; h < targets.Length; h++)
            for (int i = 0; i < Pos; i++) p[0, h, i, targets[h](i)] = 1;
        return p;
    }

    [Fact]
    public void OffsetScoresReadTheRightDiagonal()
    {
        using var scope = NewDisposeScope();
        // Head 0: previous token; head 1: three back (a duplicate-token head for T = 3); head 2: BOS.
        var p = OneHot(i => Math.Max(0, i - 1), i => Math.Max(0, i - 3), _ => 0);
        Assert.Equal([1.0, 1.0 / 7, 1.0 / 7], AttentionPatternScores.Offset(p, 1, 1)); // heads 1 and 2 hit i−1 = 0 only at i = 1
        Assert.Equal([0.0, 1.0, 0.0], AttentionPatternScores.Offset(p, 3, 4));        // queries 4..7
        Assert.Equal([1.0 / 7, 3.0 / 7, 1.0], AttentionPatternScores.SinkMass(p));  // queries 1..7 that land on position 0
    }

    /// <summary>Two query heads share one kv head (grouped); W_O scales head 0 by 1 and head 1 by 2, which cancels in the ratio.</summary>
    [Fact]
    public void SinkValueNormComparesPositionZerosWriteWithTheOthers()
    {
        using var scope = NewDisposeScope();
        var v = ones(2, 4, 1, 3, dtype: ScalarType.Float64);
        v[.., 0] = 0.25;                                       // position 0 writes a quarter of the others
        var wO = stack([eye(3, 5, dtype: ScalarType.Float64), 2 * eye(3, 5, dtype: ScalarType.Float64)]);
        var ratio = AttentionPatternScores.SinkValueNorm(v, wO);
        Assert.Equal(0.25, ratio[0], 12);
        Assert.Equal(0.25, ratio[1], 12);
    }

    [Fact]
    public void FixedOffsetFindsTheSharedOffsetAndItsFraction()
    {
        using var scope = NewDisposeScope();
        // Head 0: current token everywhere; head 1: two back from query 2 on, but query 1 attends to 0 (δ = 1).
        var p = OneHot(i => i, i => Math.Max(0, i - 2));
        var (fraction, offset) = AttentionPatternScores.FixedOffset(p);
        Assert.Equal([0, 2], offset);
        Assert.Equal(1.0, fraction[0]);
        Assert.Equal(6.0 / 7, fraction[1], 12);
    }

    [Fact]
    public void CopySuppressionWeightScoreIsOneForMinusIdentityAndZeroForIdentity()
    {
        using var scope = NewDisposeScope();
        int v = 30;
        var identity = eye(v, dtype: ScalarType.Float64);
        // Two heads: −I (every token suppresses itself) and +I (copies itself), factored through V.
        var ov = new FactoredMatrix(stack(new[] { -identity, identity }), stack(new[] { identity, identity }));
        Assert.Equal([1.0, 0.0], CopySuppression.WeightScore(ov, [.. Enumerable.Range(0, v).Select(i => (long)i)], rowChunk: 7));
    }

    [Fact]
    public void SuccessorScoreCountsRowsWhoseBestClassTokenIsTheNextOne()
    {
        using var scope = NewDisposeScope();
        int v = 12;
        // Class: tokens 2..9 in order; head 0 maps t → t+1 (a successor head), head 1 maps t → t (copying).
        var shift = zeros(v, v, dtype: ScalarType.Float64);
        for (int t = 0; t + 1 < v; t++) shift[t, t + 1] = 1;
        var ov = new FactoredMatrix(stack(new[] { shift, eye(v, dtype: ScalarType.Float64) }), stack(new[] { eye(v, dtype: ScalarType.Float64), eye(v, dtype: ScalarType.Float64) }));
        int?[] chain = [.. Enumerable.Range(2, 8).Select(t => (int?)t)];
        Assert.Equal([1.0, 0.0], SuccessorHeads.Score(ov, [chain]));
        // A gap in the chain removes its pairs; too few pairs give no score.
        Assert.True(double.IsNaN(SuccessorHeads.Score(ov, [[2, 3, null, 5, 6]])[0]));
    }

    [Fact]
    public void MassiveActivationsOutlierDimensionsAndNormsAreFoundWhereTheyWerePlanted()
    {
        using var scope = NewDisposeScope();
        var small = full(new long[] { 2, 5, 16 }, 0.5, dtype: ScalarType.Float64);
        var planted = small.clone();
        planted[1, 3, 7] = 900.0;                  // > 100 and > 1000 × the median 0.5
        var outlier = small.clone();
        outlier[.., .., 4] = 5.0;                  // an outlier dimension, below the massive thresholds
        var stats = ResidualStreamStats.Measure([small, planted, outlier]);
        Assert.Equal(Math.Sqrt(16 * 0.25), stats.MeanNorm[0], 12);
        var m = Assert.Single(stats.Massive);
        Assert.Equal((1, 3, 7, 900.0), (m.Layer, m.Position, m.Dimension, m.Value));
        Assert.Equal(1800.0, m.RatioToMedian, 9);
        Assert.Empty(stats.OutlierDimensions[0]);
        Assert.Equal([7], stats.OutlierDimensions[1]);
        Assert.Equal([4], stats.OutlierDimensions[2]);
        Assert.DoesNotContain(stats.Massive, x => x.Layer == 2);
    }

    [Fact]
    public void DeadNeuronsAreThoseNeverPositive()
    {
        using var scope = NewDisposeScope();
        var pre = -ones(3, 4, 6);
        pre[2, 1, 0] = 0.1f;                      // neuron 0 fires once
        pre[0, 0, 5] = 2f;                        // neuron 5 fires once
        var dead = DeadNeurons.Count([pre]);
        Assert.Equal([4], dead.PerLayer);
        Assert.Equal((6, 12L), (dead.NeuronsPerLayer, dead.Tokens));
    }
}
