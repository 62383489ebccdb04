using Glassbox.Models;

namespace Glassbox.Circuits;

/// <summary>A component that writes to the residual stream: the embeddings (token + position), a head's result, an MLP's output.</summary>
public sealed record Writer(int Index, string Name, int Layer, int Head);

/// <summary>
/// A place that reads the residual stream: one head's query, key or value input (a kv head's, with grouped queries), an
/// MLP's input, or the logits. Readers of one <see cref="Group"/> share a hook point and are its rows.
/// </summary>
public sealed record Reader(int Index, string Name, ReaderGroup Group, int Row);

/// <summary>One hook point that readers are rows of, with the writers upstream of it (writer indices 0 .. Upstream−1).</summary>
public sealed record ReaderGroup(int Index, string HookName, int Layer, char Port, int Rows, int Upstream);

/// <summary>An edge: what <paramref name="From"/> writes as <paramref name="To"/> reads it.</summary>
public sealed record Edge(int Index, Writer From, Reader To)
{
    public string Name => $"{From.Name} → {To.Name}";
}

/// <summary>
/// The model as a graph of residual-stream reads and writes (Conmy et al. 2023; techniques §4): writers are the embedding,
/// every head and every MLP; readers are every head's q, k and v inputs separately (split inputs, <c>hook_q_input</c> …),
/// every MLP input and the logits; an edge exists when the writer runs before the reader. Patching an edge sets
/// <c>in_v ← in_v − z_u(x) + z_u(x̃)</c>. |E| is 32,491 for GPT-2 small.
/// </summary>
public sealed class ComputationalGraph
{
    public ComputationalGraph(ModelConfig config)
    {
        var cfg = Config = config.Validated();
        int H = cfg.NHeads, Hkv = cfg.NKvHeads;
        var writers = new List<Writer> { new(0, "embed", -1, -1) };
        var groups = new List<ReaderGroup>();
        var readers = new List<Reader>();
        void AddGroup(string hook, int layer, char port, int rows, Func<int, string> name)
        {
            var g = new ReaderGroup(groups.Count, hook, layer, port, rows, writers.Count);
            groups.Add(g);
            for (int r = 0; r < rows; r++) readers.Add(new Reader(readers.Count, name(r), g, r));
        }
        for (int l = 0; l < cfg.NLayers; l++)
        {
            string kv(int g) => H == Hkv ? $"L{l}H{g}" : $"L{l}KV{g}";
            AddGroup($"blocks.{l}.hook_q_input", l, 'q', H, h => $"L{l}H{h}.q");
            AddGroup($"blocks.{l}.hook_k_input", l, 'k', Hkv, g => kv(g) + ".k");
            AddGroup($"blocks.{l}.hook_v_input", l, 'v', Hkv, g => kv(g) + ".v");
            int headsStart = writers.Count;
            // A parallel block's MLP reads the block's input, before its heads write.
            if (!cfg.AttnOnly && cfg.ParallelAttnMlp) AddGroup($"blocks.{l}.hook_mlp_in", l, 'm', 1, _ => $"MLP{l}");
            for (int h = 0; h < H; h++) writers.Add(new Writer(writers.Count, $"L{l}H{h}", l, h));
            if (!cfg.AttnOnly && !cfg.ParallelAttnMlp) AddGroup($"blocks.{l}.hook_mlp_in", l, 'm', 1, _ => $"MLP{l}");
            if (!cfg.AttnOnly) writers.Add(new Writer(writers.Count, $"MLP{l}", l, -1));
        }
        AddGroup($"blocks.{cfg.NLayers - 1}.hook_resid_post", cfg.NLayers, 'l', 1, _ => "logits");
        Writers = writers;
        Groups = groups;
        Readers = readers;
        Edges = readers.SelectMany(r => writers.Take(r.Group.Upstream).Select(w => (w, r)))
            .Select((e, i) => new Edge(i, e.w, e.r)).ToArray();
        EdgeIndex = new int[readers.Count][];
        foreach (var r in readers) EdgeIndex[r.Index] = new int[r.Group.Upstream];
        foreach (var e in Edges) EdgeIndex[e.To.Index][e.From.Index] = e.Index;
    }

    public ModelConfig Config { get; }
    public IReadOnlyList<Writer> Writers { get; }
    public IReadOnlyList<ReaderGroup> Groups { get; }
    public IReadOnlyList<Reader> Readers { get; }
    public IReadOnlyList<Edge> Edges { get; }

    /// <summary>EdgeIndex[reader][writer]: the edge's index, for writers upstream of the reader.</summary>
    internal int[][] EdgeIndex { get; }

    /// <summary>The node a reader belongs to: the head (or kv head) whose q/k/v it is, the MLP, or the logits.</summary>
    public static string Owner(Reader r) => r.Group.Port is 'q' or 'k' or 'v' ? r.Name[..^2] : r.Name;

    /// <summary>Readers by name ("L2H0.q", "MLP1", "logits"); a head name alone ("L2H0") means its q, k and v.</summary>
    public IReadOnlyList<Reader> ReadersNamed(string name)
    {
        var found = Readers.Where(r => r.Name == name || Owner(r) == name).ToList();
        if (found.Count == 0)
            throw new GlassboxException($"Unknown receiver '{name}'. Receivers: {NameSuggestions.Describe(name, Readers.Select(r => r.Name).Concat(Readers.Select(Owner)).Distinct().ToList(), max: 5)}");
        return found;
    }

    public Writer WriterNamed(string name) => Writers.FirstOrDefault(w => w.Name == name)
        ?? throw new GlassboxException($"Unknown sender '{name}'. Senders: {NameSuggestions.Describe(name, Writers.Select(w => w.Name).ToList(), max: 5)}");

    /// <summary>
    /// Keeps only edges on a path from the embedding to the logits: an edge stays when its writer is the embedding or has a
    /// kept incoming edge, and its reader's node reaches the logits through kept edges (iterated to a fixed point).
    /// </summary>
    public bool[] Prune(bool[] kept)
    {
        var result = (bool[])kept.Clone();
        bool changed = true;
        while (changed)
        {
            changed = false;
            var fed = new HashSet<string> { "embed" };
            foreach (var e in Edges.Where(e => result[e.Index])) fed.Add(Owner(e.To));
            var reaches = ReachingLogits(result);
            foreach (var e in Edges.Where(e => result[e.Index]))
                if (!Fed(e.From, fed) || !Reaches(e.To, reaches)) { result[e.Index] = false; changed = true; }
        }
        return result;
    }

    /// <summary>Whether the reader's node still reaches the logits through kept edges.</summary>
    public bool ReachesLogits(Reader reader, bool[] kept) => Reaches(reader, ReachingLogits(kept));

    /// <summary>The nodes with a path of kept edges to the logits.</summary>
    HashSet<string> ReachingLogits(bool[] kept)
    {
        // Edges are in reader order, so walking them backwards visits every reader after all readers downstream of it.
        var reaches = new HashSet<string> { "logits" };
        foreach (var e in Edges.Reverse().Where(e => kept[e.Index]))
            if (Reaches(e.To, reaches)) reaches.Add(e.From.Name);
        return reaches;
    }

    /// <summary>A writer is fed when its node has a kept input; with grouped queries a head is fed also through its kv head's key and value.</summary>
    bool Fed(Writer w, HashSet<string> fed) => w.Index == 0 || fed.Contains(w.Name)
        || w.Head >= 0 && Config.NKvHeads != Config.NHeads && fed.Contains($"L{w.Layer}KV{w.Head / (Config.NHeads / Config.NKvHeads)}");

    /// <summary>A reader matters when its node reaches the logits; a kv head's inputs when any head of its group does.</summary>
    bool Reaches(Reader r, HashSet<string> reaches)
    {
        if (reaches.Contains(Owner(r))) return true;
        if (Config.NKvHeads == Config.NHeads || r.Group.Port is not ('k' or 'v')) return false;
        int per = Config.NHeads / Config.NKvHeads;
        return Enumerable.Range(r.Row * per, per).Any(h => reaches.Contains($"L{r.Group.Layer}H{h}"));
    }
}
