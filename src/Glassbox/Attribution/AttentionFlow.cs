using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// Attention flow (Abnar &amp; Zuidema 2020, arXiv 2005.00928): on nodes (layer l, position i), l = 0..L, with capacities
/// <c>cap((l, j) → (l+1, i)) = Ā^l[i, j]</c> (rollout's mixing matrices), <c>A_j = maxflow((0, j) → (L, t))</c>, by Dinic's algorithm.
/// One max-flow per source; practical up to a few hundred tokens.
/// </summary>
public sealed class AttentionFlow : IAttributionMethod
{
    public string Name => "attention_flow";
    public string Description => "max-flow from each input to the last position through the rollout graph (Abnar & Zuidema 2020)";
    public bool UsesTarget => false;

    public StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target)
    {
        double[][,] capacities;
        using (NewDisposeScope()) capacities = AttentionRollout.MixingMatrices(model, context).Select(LayerMixing.ToArray).ToArray();
        int n = context.Length, layers = capacities.Length;
        var scores = new double[n];
        for (int j = 0; j < n; j++)
        {
            var network = new FlowNetwork((layers + 1) * n);
            for (int l = 0; l < layers; l++)
                for (int i = 0; i < n; i++)
                    for (int k = 0; k <= i; k++)
                        if (capacities[l][i, k] > 0) network.AddEdge(l * n + k, (l + 1) * n + i, capacities[l][i, k]);
            scores[j] = network.MaxFlow(j, layers * n + n - 1);
        }
        return new StepAttribution(scores);
    }

    /// <summary>Dinic's max-flow on a graph with real capacities.</summary>
    sealed class FlowNetwork(int nodes)
    {
        const double Epsilon = 1e-12;
        readonly List<int>[] adjacency = Enumerable.Range(0, nodes).Select(_ => new List<int>()).ToArray();
        readonly List<(int To, double Capacity)> edges = new();
        int[] level = [], next = [];

        public void AddEdge(int from, int to, double capacity)
        {
            adjacency[from].Add(edges.Count);
            edges.Add((to, capacity));
            adjacency[to].Add(edges.Count);
            edges.Add((from, 0));
        }

        public double MaxFlow(int source, int sink)
        {
            double total = 0;
            while (Levels(source, sink))
            {
                next = new int[nodes];
                double pushed;
                while ((pushed = Push(source, sink, double.PositiveInfinity)) > Epsilon) total += pushed;
            }
            return total;
        }

        bool Levels(int source, int sink)
        {
            level = Enumerable.Repeat(-1, nodes).ToArray();
            level[source] = 0;
            var queue = new Queue<int>([source]);
            while (queue.Count > 0)
            {
                int u = queue.Dequeue();
                foreach (int e in adjacency[u])
                    if (edges[e].Capacity > Epsilon && level[edges[e].To] < 0)
                    {
                        level[edges[e].To] = level[u] + 1;
                        queue.Enqueue(edges[e].To);
                    }
            }
            return level[sink] >= 0;
        }

        double Push(int u, int sink, double limit)
        {
            if (u == sink) return limit;
            for (; next[u] < adjacency[u].Count; next[u]++)
            {
                int e = adjacency[u][next[u]];
                var (to, capacity) = edges[e];
                if (capacity <= Epsilon || level[to] != level[u] + 1) continue;
                double pushed = Push(to, sink, Math.Min(limit, capacity));
                if (pushed <= Epsilon) continue;
                edges[e] = (to, capacity - pushed);
                edges[e ^ 1] = (edges[e ^ 1].To, edges[e ^ 1].Capacity + pushed);
                return pushed;
            }
            return 0;
        }
    }
}
