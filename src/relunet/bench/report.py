"""The benchmark's report: the table of medians (min-max) and ratios, and the --json document.

Ratios are relunet / other of the case's unit: for rates (steps/s, samples/s) above 1 means relunet is faster;
for times (ms, s, MB) below 1 means relunet is faster (or smaller).
"""

import json

RATIO_AGAINST = ("torch", "jax", "sklearn", "floor", "numba")


def fmt(value, unit):
    """A compact number: 131k, 4.3k, 10.2, 0.979."""
    if value is None:
        return "-"
    if unit in ("steps/s", "samples/s"):
        if value >= 1e6:
            return f"{value / 1e6:.2f}M"
        if value >= 1e4:
            return f"{value / 1e3:.0f}k"
        if value >= 1e3:
            return f"{value / 1e3:.1f}k"
        return f"{value:.0f}"
    if unit == "accuracy":
        return f"{value:.4f}"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}" if value >= 1 else f"{value:.3f}"


def cell(entry, name):
    if name not in entry["median"]:
        return "-"
    u = entry["unit"]
    med, lo, hi = entry["median"][name], entry["min"][name], entry["max"][name]
    if lo == hi:
        return fmt(med, u)
    return f"{fmt(med, u)} ({fmt(lo, u)}-{fmt(hi, u)})"


def ratio(entry, other):
    """relunet's median / other's median, or None when either is missing or zero."""
    med = entry["median"]
    if "relunet" not in med or other not in med or not med[other]:
        return None
    return med["relunet"] / med[other]


def machine_line(m):
    parts = [m.get("date", ""), m.get("cpu", ""), f"{m.get('cores')} cores", f"Python {m.get('python')}",
             f"NumPy {m.get('numpy')}"]
    for key, label in (("scipy", "SciPy"), ("sklearn", "scikit-learn"), ("torch", "PyTorch"), ("jax", "JAX"),
                       ("numba", "Numba")):
        if key in m:
            parts.append(f"{label} {m[key]}")
    parts.append(f"relunet {m.get('relunet')}")
    parts.append(f"matmul {m.get('gflops_float64')} GFLOP/s float64, {m.get('gflops_float32')} float32 "
                 f"(1 thread)")
    return "machine: " + ", ".join(str(p) for p in parts)


def case_line(case, entry, checks):
    ratios = ", ".join(f"relunet/{o} {ratio(entry, o):.2f}" for o in RATIO_AGAINST if ratio(entry, o) is not None)
    bad = [c for c in checks if not c.ok]
    flag = "  TRAJECTORY MISMATCH: " + ", ".join(c.contender for c in bad) if bad else ""
    return f"{case.name:<22} {cell(entry, 'relunet'):>22} {entry['unit']:<10} {ratios}{flag}"


def table(document, checks=()):
    """A Markdown table of every case: medians (min-max) per contender and relunet's ratios."""
    names = ["relunet"] + list(RATIO_AGAINST)
    present = [n for n in names if any(n in e["median"] for e in document["cases"])]
    ratios = [o for o in RATIO_AGAINST if o in present]
    head = ["case", "unit"] + present + [f"relunet/{o}" for o in ratios]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in document["cases"]:
        row = [e["case"], e["unit"]] + [cell(e, n) for n in present]
        for o in ratios:
            r = ratio(e, o)
            row.append("-" if r is None else f"{r:.2f}")
        rows.append("| " + " | ".join(row) + " |")
    m = document.get("machine", {})
    if m:
        rows.append("")
        rows.append(machine_line(m))
    rows.append("ratios are relunet / other: above 1 is faster for steps/s and samples/s; below 1 is faster "
                "(or smaller) for ms, s and MB")
    return "\n".join(rows)


def check_summary(checks):
    """One line per trajectory comparison, then the verdict."""
    lines = ["trajectory check (weights after identical updates, vs relunet):"]
    for c in checks:
        if not c.compared:
            lines.append(f"  {c.case:<20} {c.contender:<8} not compared: {c.note}")
            continue
        what = "outputs" if c.steps == 0 else f"{c.steps} updates"
        lines.append(f"  {c.case:<20} {c.contender:<8} {what:<12} max error {c.error:.1e} "
                     f"(tolerance {c.tolerance:.0e}) {'ok' if c.ok else 'MISMATCH'}")
    ok = all(c.ok for c in checks)
    lines.append("trajectory check: " + ("all contenders agree" if ok else "MISMATCH: timings are not comparable"))
    return "\n".join(lines)


def to_json(document):
    """The --json file's bytes: {"machine": {...}, "cases": [{"case", "unit", "median", "min", "max"}]}."""
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def write_json(path, document):
    from ..io import atomic_write_bytes

    atomic_write_bytes(path, to_json(document))
