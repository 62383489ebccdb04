using Glassbox.Models;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Web.Views;

public sealed record Prediction(int Id, string Token, double Probability);

/// <summary>One prompt position: its token, the probability the model gave it from the position before, and the model's top guesses for the next one.</summary>
public sealed record TokenRow(int Position, int Id, string Token, double? Probability, IReadOnlyList<Prediction> Top);

public sealed record TokensResult(IReadOnlyList<TokenRow> Tokens);

/// <summary>The prompt's tokens with the model's next-token distribution at each position.</summary>
public static class TokensView
{
    public static TokensResult Compute(HookedTransformer model, ITokenizer tokenizer, long[] ids, int top)
    {
        var probs = model.Forward(tensor(ids).unsqueeze(0))[0].to(ScalarType.Float64).softmax(-1).cpu(); // [pos, vocab]
        var (values, indices) = probs.topk(top);
        var topValues = values.data<double>().ToArray();
        var topIds = indices.data<long>().ToArray();
        var rows = new TokenRow[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            var predictions = Enumerable.Range(i * top, top)
                .Select(j => new Prediction((int)topIds[j], tokenizer.Display((int)topIds[j]), topValues[j])).ToArray();
            double? given = i == 0 ? null : probs[i - 1, ids[i]].item<double>();
            rows[i] = new TokenRow(i, (int)ids[i], tokenizer.Display((int)ids[i]), given, predictions);
        }
        return new TokensResult(rows);
    }
}
