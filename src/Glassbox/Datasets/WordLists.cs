namespace Glassbox.Datasets;

/// <summary>
/// The names, places and objects shared by the IOI prompts (<see cref="IoiDataset"/>) and the stories
/// (<see cref="StoryGrammar"/>). Names and places are from Wang et al. (2022)'s IOI dataset
/// (arXiv 2211.00593) or equally common; every entry is a single GPT-2 token after a space.
/// </summary>
public static class WordLists
{
    public static IReadOnlyList<string> Names { get; } =
    [
        "Mary", "John", "Alice", "Bob", "James", "Michael", "David", "Daniel", "Sarah", "Emily", "Thomas", "Kevin",
        "Laura", "Rachel", "Paul", "Mark", "Anna", "Kate", "Lucy", "Jack", "Sam", "Ben", "Tom", "Emma",
    ];

    public static IReadOnlyList<string> Places { get; } = ["store", "garden", "restaurant", "school", "hospital", "office", "house", "station"];

    public static IReadOnlyList<string> Objects { get; } = ["ring", "book", "bone", "ball", "computer", "necklace", "drink", "snack"];
}
