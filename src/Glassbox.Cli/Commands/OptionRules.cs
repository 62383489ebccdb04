using System.CommandLine;
using System.CommandLine.Parsing;

namespace Glassbox.Cli.Commands;

/// <summary>
/// Range checks attached to numeric options, so that a count of 0 or a NaN threshold is a parse error naming the option
/// instead of an index failure or a silently empty result deep inside a technique.
/// </summary>
public static class OptionRules
{
    public static Option<int> AtLeast(this Option<int> option, int min)
    {
        option.Validators.Add(r => Below(r, option.Name, r.GetValueOrDefault<int>(), min));
        return option;
    }

    public static Option<int?> AtLeast(this Option<int?> option, int min)
    {
        option.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is int v) Below(r, option.Name, v, min); });
        return option;
    }

    public static Option<int> Between(this Option<int> option, int min, int max)
    {
        option.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v < min || v > max) r.AddError($"{option.Name} must be between {min} and {max}, got {v}.");
        });
        return option;
    }

    /// <summary>A finite number of at least <paramref name="min"/> (NaN and infinities are refused).</summary>
    public static Option<double> FiniteAtLeast(this Option<double> option, double min)
    {
        option.Validators.Add(r => CheckFinite(r, option.Name, r.GetValueOrDefault<double>(), min));
        return option;
    }

    public static Option<double?> FiniteAtLeast(this Option<double?> option, double min)
    {
        option.Validators.Add(r => { if (r.GetValueOrDefault<double?>() is double v) CheckFinite(r, option.Name, v, min); });
        return option;
    }

    /// <summary>A share strictly between 0 and 1, such as the held-out part of a split.</summary>
    public static Option<double> Fraction(this Option<double> option)
    {
        option.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!(v > 0 && v < 1)) r.AddError($"{option.Name} must lie strictly between 0 and 1, got {v}.");
        });
        return option;
    }

    static void Below(OptionResult r, string name, int value, int min)
    {
        if (value < min) r.AddError($"{name} must be at least {min}, got {value}.");
    }

    static void CheckFinite(OptionResult r, string name, double value, double min)
    {
        if (!double.IsFinite(value)) r.AddError($"{name} must be a finite number, got {value}.");
        else if (value < min) r.AddError($"{name} must be at least {min}, got {value}.");
    }
}
