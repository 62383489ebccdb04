using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Glassbox.Features;

/// <summary>One top-activating context of a unit: its peak activation, and where (sequence id, position) it occurred.</summary>
public sealed record MaxActivationExample(double Activation, long Sequence, int Position, long[] Tokens);

/// <summary>
/// Max-activating examples of a set of units (the neurons of a hook, or an SAE's latents) in one SQLite file:
/// for each unit its top-k contexts (a context is one sequence, ranked by the unit's peak over its positions) and its
/// firing count, plus the sequences the examples point into and how far the scan has got, so a scan resumes where it
/// stopped. SQLite because it is one embedded file written transactionally (a crash mid-batch leaves the last
/// committed batch intact, which is what makes resuming safe), indexed for the one query that matters (a unit's
/// examples, by primary key), and readable from any language; the data are small (units × k rows), so DuckDB's
/// columnar scans or Parquet's immutable files buy nothing here.
/// </summary>
public sealed class MaxActivationStore : IDisposable
{
    readonly SqliteConnection connection;

    MaxActivationStore(SqliteConnection connection, string path, string source, int units, int k)
    {
        this.connection = connection;
        (Path, Source, Units, K) = (path, source, units, k);
    }

    public string Path { get; }
    /// <summary>What the units are, e.g. <c>blocks.1.mlp.hook_post</c> or <c>sae:blocks.2.hook_resid_post</c>.</summary>
    public string Source { get; }
    public int Units { get; }
    public int K { get; }
    public long SequencesDone => long.Parse(Meta("sequences_done"), CultureInfo.InvariantCulture);
    public long TokensDone => long.Parse(Meta("tokens_done"), CultureInfo.InvariantCulture);

    /// <summary>Opens the store at <paramref name="path"/>, creating it if absent; an existing store must hold the same source, unit count and k.</summary>
    public static MaxActivationStore Open(string path, string source, int units, int k)
    {
        if (units <= 0 || k <= 0) throw new GlassboxException($"A max-activation store needs positive units and k, got {units} and {k}.");
        bool exists = File.Exists(path);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            var store = new MaxActivationStore(connection, path, source, units, k);
            if (!exists) store.Create();
            else store.CheckMatches();
            return store;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new GlassboxException($"{path}: not a max-activation store ({e.Message}).");
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Opens an existing store for queries, reading its source, unit count and k from the file.</summary>
    public static MaxActivationStore OpenExisting(string path)
    {
        if (!File.Exists(path)) throw new GlassboxException($"{path}: no max-activation store there.");
        using var probe = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        try
        {
            probe.Open();
            string Read(string key)
            {
                using var cmd = probe.CreateCommand();
                cmd.CommandText = "SELECT value FROM meta WHERE key = $key";
                cmd.Parameters.AddWithValue("$key", key);
                return cmd.ExecuteScalar() as string ?? throw new GlassboxException($"{path}: the store has no '{key}'.");
            }
            return Open(path, Read("source"), int.Parse(Read("units"), CultureInfo.InvariantCulture), int.Parse(Read("k"), CultureInfo.InvariantCulture));
        }
        catch (SqliteException e)
        {
            throw new GlassboxException($"{path}: not a max-activation store ({e.Message}).");
        }
    }

    void Create()
    {
        Execute("""
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE sequences (id INTEGER PRIMARY KEY, tokens BLOB NOT NULL);
            CREATE TABLE top (unit INTEGER NOT NULL, rank INTEGER NOT NULL, activation REAL NOT NULL, sequence INTEGER NOT NULL, position INTEGER NOT NULL,
                              PRIMARY KEY (unit, rank)) WITHOUT ROWID;
            CREATE TABLE units (unit INTEGER PRIMARY KEY, fired INTEGER NOT NULL);
            """);
        using var tx = connection.BeginTransaction();
        foreach (var (key, value) in new[] { ("source", Source), ("units", $"{Units}"), ("k", $"{K}"), ("sequences_done", "0"), ("tokens_done", "0") })
            SetMeta(key, value, tx);
        tx.Commit();
    }

    void CheckMatches()
    {
        var (source, units, k) = (Meta("source"), Meta("units"), Meta("k"));
        if (source != Source || units != $"{Units}" || k != $"{K}")
            throw new GlassboxException($"{Path} holds {units} units of {source} with k {k}, not {Units} units of {Source} with k {K}; use another file.");
    }

    string Meta(string key)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT value FROM meta WHERE key = $key";
        cmd.Parameters.AddWithValue("$key", key);
        return cmd.ExecuteScalar() as string ?? throw new GlassboxException($"{Path}: the store has no '{key}'.");
    }

    void SetMeta(string key, string value, SqliteTransaction tx)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO meta (key, value) VALUES ($key, $value) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
        cmd.Parameters.AddWithValue("$key", key);
        cmd.Parameters.AddWithValue("$value", value);
        cmd.ExecuteNonQuery();
    }

    void Execute(string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>The running state of a scan: per unit the top-k (activation, sequence, position), best first, and the firing counts.</summary>
    public sealed record State(double[,] Activations, long[,] Sequences, int[,] Positions, long[] Fired);

    /// <summary>The committed state; empty slots have activation −∞.</summary>
    public State Load()
    {
        var state = new State(new double[Units, K], new long[Units, K], new int[Units, K], new long[Units]);
        for (int u = 0; u < Units; u++) for (int r = 0; r < K; r++) state.Activations[u, r] = double.NegativeInfinity;
        using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "SELECT unit, rank, activation, sequence, position FROM top";
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                int u = reader.GetInt32(0), r = reader.GetInt32(1);
                (state.Activations[u, r], state.Sequences[u, r], state.Positions[u, r]) = (reader.GetDouble(2), reader.GetInt64(3), reader.GetInt32(4));
            }
        }
        using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "SELECT unit, fired FROM units";
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) state.Fired[reader.GetInt32(0)] = reader.GetInt64(1);
        }
        return state;
    }

    /// <summary>Replaces the state and records the newly scanned sequences, atomically.</summary>
    public void Commit(State state, IReadOnlyList<(long Id, long[] Tokens)> newSequences, long sequencesDone, long tokensDone)
    {
        using var tx = connection.BeginTransaction();
        using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT OR REPLACE INTO sequences (id, tokens) VALUES ($id, $tokens)";
            var id = cmd.Parameters.Add("$id", SqliteType.Integer);
            var tokens = cmd.Parameters.Add("$tokens", SqliteType.Blob);
            foreach (var (sid, ids) in newSequences)
            {
                id.Value = sid;
                var bytes = new byte[ids.Length * sizeof(long)];
                Buffer.BlockCopy(ids, 0, bytes, 0, bytes.Length);
                tokens.Value = bytes;
                cmd.ExecuteNonQuery();
            }
        }
        using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = "DELETE FROM top; DELETE FROM units;";
            cmd.ExecuteNonQuery();
        }
        using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT INTO top (unit, rank, activation, sequence, position) VALUES ($u, $r, $a, $s, $p)";
            var (u, r, a, s, p) = (cmd.Parameters.Add("$u", SqliteType.Integer), cmd.Parameters.Add("$r", SqliteType.Integer),
                cmd.Parameters.Add("$a", SqliteType.Real), cmd.Parameters.Add("$s", SqliteType.Integer), cmd.Parameters.Add("$p", SqliteType.Integer));
            cmd.Prepare();
            for (int unit = 0; unit < Units; unit++)
                for (int rank = 0; rank < K && !double.IsNegativeInfinity(state.Activations[unit, rank]); rank++)
                {
                    (u.Value, r.Value, a.Value, s.Value, p.Value) = (unit, rank, state.Activations[unit, rank], state.Sequences[unit, rank], state.Positions[unit, rank]);
                    cmd.ExecuteNonQuery();
                }
        }
        using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT INTO units (unit, fired) VALUES ($u, $f)";
            var (u, f) = (cmd.Parameters.Add("$u", SqliteType.Integer), cmd.Parameters.Add("$f", SqliteType.Integer));
            cmd.Prepare();
            for (int unit = 0; unit < Units; unit++)
            {
                (u.Value, f.Value) = (unit, state.Fired[unit]);
                cmd.ExecuteNonQuery();
            }
        }
        SetMeta("sequences_done", sequencesDone.ToString(CultureInfo.InvariantCulture), tx);
        SetMeta("tokens_done", tokensDone.ToString(CultureInfo.InvariantCulture), tx);
        tx.Commit();
    }

    /// <summary>A unit's top contexts, highest activation first, with the tokens of each context.</summary>
    public IReadOnlyList<MaxActivationExample> Top(int unit)
    {
        if (unit < 0 || unit >= Units) throw new GlassboxException($"Unit {unit} is outside [0, {Units}) of {Source}.");
        using var cmd = connection.CreateCommand();
        cmd.CommandText = """
            SELECT t.activation, t.sequence, t.position, s.tokens FROM top t JOIN sequences s ON s.id = t.sequence
            WHERE t.unit = $u ORDER BY t.rank
            """;
        cmd.Parameters.AddWithValue("$u", unit);
        using var reader = cmd.ExecuteReader();
        var examples = new List<MaxActivationExample>();
        while (reader.Read())
        {
            var bytes = (byte[])reader.GetValue(3);
            var tokens = new long[bytes.Length / sizeof(long)];
            Buffer.BlockCopy(bytes, 0, tokens, 0, bytes.Length);
            examples.Add(new MaxActivationExample(reader.GetDouble(0), reader.GetInt64(1), reader.GetInt32(2), tokens));
        }
        return examples;
    }

    /// <summary>Fraction of scanned tokens on which each unit was positive.</summary>
    public double[] Densities()
    {
        long tokens = TokensDone;
        var fired = Load().Fired;
        return fired.Select(f => tokens == 0 ? 0 : f / (double)tokens).ToArray();
    }

    public DensityHistogram Histogram() => DensityHistogram.Of(Densities());

    public void Dispose() => connection.Dispose();
}
