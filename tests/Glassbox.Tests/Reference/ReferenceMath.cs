namespace Glassbox.Tests.Reference;

/// <summary>
/// The float64 building blocks of the reference forward pass, written as plain loops from their
/// textbook definitions. Vectors are double[]; weights are the checkpoint's float[] in the layout named.
/// </summary>
public static class ReferenceMath
{
    // ---- scalar functions ----

    /// <summary>
    /// The error function to about 1e-15 absolute. For |x| &lt; 3 the everywhere-positive series
    /// erf(x) = 2/√π · e^(−x²) · Σₙ (2x²)ⁿ x / (1·3·…·(2n+1)) (no cancellation); beyond, 1 − erfc(x)
    /// with erfc from its continued fraction e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))).
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        double r = ax < 3.0 ? ErfSeries(ax) : 1.0 - ErfcContinuedFraction(ax);
        return x < 0 ? -r : r;
    }

    static double ErfSeries(double x)
    {
        double twoX2 = 2 * x * x, term = x, sum = x;
        for (int n = 1; n < 500; n++)
        {
            term *= twoX2 / (2 * n + 1);
            sum += term;
            if (term <= sum * 1e-17) break;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x) * sum;
    }

    static double ErfcContinuedFraction(double x)
    {
        if (x > 27) return 0; // e^(−729) underflows
        double f = x;
        for (int k = 120; k >= 1; k--) f = x + k / 2.0 / f;
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }

    /// <summary>Exact GELU: x·Φ(x) = ½x(1 + erf(x/√2)) (torch's default, HF "gelu").</summary>
    public static double Gelu(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    /// <summary>GPT-2's tanh GELU ("gelu_new"): ½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
    public static double GeluNew(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    public static double Silu(double x) => x / (1 + Math.Exp(-x));

    public static double Relu(double x) => Math.Max(0, x);

    /// <summary>The activation a Hugging Face config names (activation_function / hidden_act).</summary>
    public static Func<double, double> Activation(string name) => name switch
    {
        "gelu" => Gelu,
        "gelu_new" or "gelu_pytorch_tanh" => GeluNew,
        "silu" or "swish" => Silu,
        "relu" => Relu,
        _ => throw new NotSupportedException($"The reference has no activation '{name}'."),
    };

    // ---- norms ----

    /// <summary>LayerNorm: (x − mean) / √(var + eps) · w + b, with the biased variance.</summary>
    public static double[] LayerNorm(double[] x, float[] w, float[] b, double eps)
    {
        int n = x.Length;
        double mean = 0;
        for (int i = 0; i < n; i++) mean += x[i];
        mean /= n;
        double variance = 0;
        for (int i = 0; i < n; i++) variance += (x[i] - mean) * (x[i] - mean);
        variance /= n;
        double inv = 1 / Math.Sqrt(variance + eps);
        var y = new double[n];
        for (int i = 0; i < n; i++) y[i] = (x[i] - mean) * inv * w[i] + b[i];
        return y;
    }

    /// <summary>RMSNorm: x / √(mean(x²) + eps) · w.</summary>
    public static double[] RmsNorm(double[] x, float[] w, double eps)
    {
        int n = x.Length;
        double meanSquare = 0;
        for (int i = 0; i < n; i++) meanSquare += x[i] * x[i];
        meanSquare /= n;
        double inv = 1 / Math.Sqrt(meanSquare + eps);
        var y = new double[n];
        for (int i = 0; i < n; i++) y[i] = x[i] * inv * w[i];
        return y;
    }

    // ---- linear maps ----

    /// <summary>nn.Linear: y[o] = b[o] + Σᵢ W[o, i] x[i], with W stored [out, in] row-major. <paramref name="b"/> may be null.</summary>
    public static double[] LinearOutIn(float[] w, float[]? b, double[] x, int outDim)
    {
        int inDim = x.Length;
        if (w.Length != outDim * inDim) throw new ArgumentException($"weight has {w.Length} values, expected [{outDim}, {inDim}]");
        var y = new double[outDim];
        for (int o = 0; o < outDim; o++)
        {
            double sum = b == null ? 0 : b[o];
            for (int i = 0; i < inDim; i++) sum += w[o * inDim + i] * x[i];
            y[o] = sum;
        }
        return y;
    }

    /// <summary>GPT-2's Conv1D: y[o] = b[o] + Σᵢ x[i] W[i, o], with W stored [in, out] row-major.</summary>
    public static double[] LinearInOut(float[] w, float[]? b, double[] x, int outDim)
    {
        int inDim = x.Length;
        if (w.Length != outDim * inDim) throw new ArgumentException($"weight has {w.Length} values, expected [{inDim}, {outDim}]");
        var y = new double[outDim];
        for (int o = 0; o < outDim; o++)
        {
            double sum = b == null ? 0 : b[o];
            for (int i = 0; i < inDim; i++) sum += x[i] * w[i * outDim + o];
            y[o] = sum;
        }
        return y;
    }

    public static double[] Add(double[] a, double[] b)
    {
        var y = new double[a.Length];
        for (int i = 0; i < a.Length; i++) y[i] = a[i] + b[i];
        return y;
    }

    public static double[] Row(float[] matrix, int row, int width)
    {
        var y = new double[width];
        for (int i = 0; i < width; i++) y[i] = matrix[row * width + i];
        return y;
    }

    // ---- rotary position embeddings ----

    /// <summary>Frequencies θ^(−2j/d) for j &lt; d/2, where d is the number of rotated dimensions.</summary>
    public static double[] InverseFrequencies(int rotaryDim, double theta)
    {
        var f = new double[rotaryDim / 2];
        for (int j = 0; j < f.Length; j++) f[j] = Math.Pow(theta, -2.0 * j / rotaryDim);
        return f;
    }

    /// <summary>
    /// Hugging Face rotate-half RoPE on v[start .. start + rotaryDim), in place:
    /// v ← v·cos + rotate_half(v)·sin with rotate_half(a, b) = (−b, a) on the two halves,
    /// i.e. for j &lt; rotaryDim/2 the pair (j, j + rotaryDim/2) is rotated by the angle pos·f[j].
    /// </summary>
    public static void RotateHalves(double[] v, int start, int rotaryDim, int pos, double[] inverseFrequencies)
    {
        int half = rotaryDim / 2;
        for (int j = 0; j < half; j++)
        {
            double angle = pos * inverseFrequencies[j], cos = Math.Cos(angle), sin = Math.Sin(angle);
            double a = v[start + j], b = v[start + j + half];
            v[start + j] = a * cos - b * sin;
            v[start + j + half] = b * cos + a * sin;
        }
    }

    /// <summary>llama2.c / Meta RoPE on v[start .. start + rotaryDim), in place: adjacent pairs (2j, 2j+1) rotated by pos·f[j].</summary>
    public static void RotatePairs(double[] v, int start, int rotaryDim, int pos, double[] inverseFrequencies)
    {
        for (int j = 0; j < rotaryDim / 2; j++)
        {
            double angle = pos * inverseFrequencies[j], cos = Math.Cos(angle), sin = Math.Sin(angle);
            double a = v[start + 2 * j], b = v[start + 2 * j + 1];
            v[start + 2 * j] = a * cos - b * sin;
            v[start + 2 * j + 1] = a * sin + b * cos;
        }
    }

    // ---- attention and output ----

    /// <summary>
    /// Causal softmax attention. q[t] holds nHeads heads of dHead values one after another; k[t] and v[t]
    /// hold nKvHeads heads. Query head h reads key/value head h / (nHeads / nKvHeads). Scores are scaled
    /// by 1/√dHead. Returns z[t], the heads' outputs concatenated in head order.
    /// </summary>
    public static double[][] CausalAttention(double[][] q, double[][] k, double[][] v, int nHeads, int nKvHeads, int dHead)
    {
        int n = q.Length, group = nHeads / nKvHeads;
        double scale = 1 / Math.Sqrt(dHead);
        var z = new double[n][];
        for (int t = 0; t < n; t++)
        {
            z[t] = new double[nHeads * dHead];
            for (int h = 0; h < nHeads; h++)
            {
                int kvHead = h / group;
                var scores = new double[t + 1];
                for (int s = 0; s <= t; s++)
                {
                    double dot = 0;
                    for (int i = 0; i < dHead; i++) dot += q[t][h * dHead + i] * k[s][kvHead * dHead + i];
                    scores[s] = dot * scale;
                }
                var weights = Softmax(scores);
                for (int s = 0; s <= t; s++)
                    for (int i = 0; i < dHead; i++)
                        z[t][h * dHead + i] += weights[s] * v[s][kvHead * dHead + i];
            }
        }
        return z;
    }

    public static double[] Softmax(double[] x)
    {
        double max = x.Max(), sum = 0;
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) sum += y[i] = Math.Exp(x[i] - max);
        for (int i = 0; i < x.Length; i++) y[i] /= sum;
        return y;
    }

    /// <summary>log_softmax of each row: x − max − log Σ exp(x − max).</summary>
    public static double[,] LogSoftmaxRows(double[][] logits)
    {
        int n = logits.Length, vocab = logits[0].Length;
        var result = new double[n, vocab];
        for (int t = 0; t < n; t++)
        {
            double max = logits[t].Max(), sum = 0;
            for (int i = 0; i < vocab; i++) sum += Math.Exp(logits[t][i] - max);
            double logSum = max + Math.Log(sum);
            for (int i = 0; i < vocab; i++) result[t, i] = logits[t][i] - logSum;
        }
        return result;
    }
}
