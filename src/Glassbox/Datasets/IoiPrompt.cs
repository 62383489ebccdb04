namespace Glassbox.Datasets;

/// <summary>
/// One indirect-object-identification prompt (<see cref="IoiDataset"/>) with the token positions that
/// patching and circuit analyses read: the indirect object (IO), the subject's first (S1) and second
/// (S2) mentions, and the end position where the answer is predicted. Positions index <see cref="Ids"/>.
/// </summary>
/// <param name="Text">The prompt, ending just before the answer.</param>
/// <param name="Ids">The tokenizer's encoding of <paramref name="Text"/>, with a BOS if it adds one or one was asked for.</param>
/// <param name="TemplateId">Index into <see cref="IoiDataset.Templates"/>.</param>
/// <param name="IoName">The name in the IO slot; in an ABC corruption, A.</param>
/// <param name="S1Name">The name in the S1 slot; in an ABC corruption, B.</param>
/// <param name="S2Name">The name in the S2 slot: the subject again, or C in an ABC corruption.</param>
/// <param name="EndPosition">The last token, whose next-token prediction is the answer.</param>
/// <param name="IoToken">The IO name's token as it would come next (" Mary" for GPT-2), which is also the token at <paramref name="IoPosition"/>.</param>
/// <param name="SToken">The S1 name's token as it would come next, which is also the token at <paramref name="S1Position"/>.</param>
public sealed record IoiPrompt(
    string Text, int[] Ids, int TemplateId, IoiOrder Order, string IoName, string S1Name, string S2Name,
    int IoPosition, int S1Position, int S2Position, int EndPosition, int IoToken, int SToken)
{
    internal IoiPrompt? Corruption { get; init; }

    /// <summary>
    /// The same prompt (template, place, object, order) with the IO, S1 and S2 slots filled by three
    /// other, different names A, B, C — Wang et al.'s ABC distribution. It has the same length and
    /// positions as this prompt, so activations can be patched position by position.
    /// </summary>
    /// <exception cref="InvalidOperationException">This prompt is itself an ABC corruption.</exception>
    public IoiPrompt AbcCorruption() =>
        Corruption ?? throw new InvalidOperationException("This prompt is an ABC corruption; it has no corruption of its own.");
}
