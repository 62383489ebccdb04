namespace Glassbox.Tests.Reference;

/// <summary>
/// Deterministic random float32 tensors from a seed (System.Random's seeded sequence is stable across
/// .NET versions; normals by Box–Muller).
/// </summary>
public sealed class SeededWeights
{
    readonly Random random;

    public SeededWeights(int seed) => random = new Random(seed);

    public double Normal()
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Values std·N(0, 1) in a tensor of the given shape.</summary>
    public (float[] Data, int[] Shape) Gaussian(double std, params int[] shape) => Shifted(0, std, shape);

    /// <summary>Values 1 + std·N(0, 1): weights of a norm layer.</summary>
    public (float[] Data, int[] Shape) NormWeights(double std, params int[] shape) => Shifted(1, std, shape);

    (float[] Data, int[] Shape) Shifted(double mean, double std, int[] shape)
    {
        var data = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(mean + std * Normal());
        return (data, shape);
    }

    /// <summary>Uniform token ids in [0, vocab).</summary>
    public int[] Tokens(int count, int vocab) => Enumerable.Range(0, count).Select(_ => random.Next(vocab)).ToArray();
}
