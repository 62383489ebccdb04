namespace Glassbox.Training.Recipes;

/// <summary>The recipes `glassbox train --recipe` knows.</summary>
public static class RecipeCatalog
{
    public static readonly IReadOnlyList<Recipe> All = new Recipe[] { new AttnOnly2L(), new IoiGpt2_4L(), new IoiLlama4L() };

    public static Recipe Get(string name) =>
        All.FirstOrDefault(r => r.Name == name)
        ?? throw new GlassboxException($"Unknown recipe '{name}'. Known: {string.Join(", ", All.Select(r => r.Name))}.");
}
