namespace Glassbox.Datasets;

/// <summary>The order of the first two names in an IOI prompt (Wang et al. 2022).</summary>
public enum IoiOrder
{
    /// <summary>Indirect object first: "When Mary and John went to the store, John gave a drink to" → " Mary".</summary>
    Abba,
    /// <summary>Subject first: "When John and Mary went to the store, John gave a drink to" → " Mary".</summary>
    Baba,
}
