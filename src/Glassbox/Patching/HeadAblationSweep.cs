using Glassbox.Hooks;
using Glassbox.Mechanisms;
using Glassbox.Models;

namespace Glassbox.Patching;

/// <summary>
/// The effect of ablating each attention head on a metric: <c>M(ablated) − M(clean)</c> per (layer, head).
/// The ablation is any hook (zero, mean, resample); the metric any function of a run with hooks.
/// </summary>
public static class HeadAblationSweep
{
    public static HeadScores Run(HookedTransformer model, Func<(string Names, HookFn Fn)[], double> metric,
        Func<int, int, (string Names, HookFn Fn)> ablation, string name)
    {
        double clean = metric([]);
        var effects = new double[model.Config.NLayers, model.Config.NHeads];
        for (int l = 0; l < model.Config.NLayers; l++)
            for (int h = 0; h < model.Config.NHeads; h++)
                effects[l, h] = metric([ablation(l, h)]) - clean;
        return new HeadScores(name, effects);
    }
}
