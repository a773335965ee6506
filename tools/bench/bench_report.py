#!/usr/bin/env python3
"""bench_report.py — turn the samples deploy/bench.sh collected into the table
and the JSON object (one key per figure).

Input (the samples file, one record a line, tab-separated):
    sample <name> <value>       one run's value of a figure (or of a floor part)
    null   <name> <reason>      the figure could not be measured, and why
    info   <name> <text>        free text shown above the table (date, machine)

Output: the table on stdout, or with --json one JSON object on stdout whose keys
are exactly FIGURES + RATIOS below; the table then goes to stderr. Each key maps
to an object:
    {"median": x|null, "min": x|null, "max": x|null, "runs": [...], "unit": "...",
     "target": "..."|null, "meets_target": true|false|null, "reason": "..."|null}
A figure without samples has median null and says why in "reason"; nothing is
ever filled in. A ratio is the ratio of the two medians; its min and max are the
extreme pairings (min num / max den, max num / min den).
"""
import json
import statistics
import sys

# name, unit, target (op, value) or None
FIGURES = [
    ("raw_curve_msgs_per_s", "msgs/s", None),
    ("raw_verify_per_s", "verifies/s", None),
    ("raw_sign_per_s", "signs/s", None),
    ("raw_commit_per_s", "commits/s", None),
    ("raw_batch_puts_per_s", "puts/s", None),
    ("peer_mqtt_bridge_msgs_per_s", "msgs/s", None),
    ("catchup_entries_per_s", "entries/s", None),
    ("federation_catchup_entries_per_s", "entries/s", None),
    ("live_entries_per_s", "entries/s", None),
    ("latency_p50_us", "us", None),
    ("latency_p99_us", "us", None),
    # total RSS counts the store's map pages (page cache the kernel can drop):
    # reported; the private memory (RssAnon) is the target (performance issue)
    ("node_rss_idle_kib", "KiB", None),
    ("node_anon_kib", "KiB", ("<=", 4096)),
    ("broker_rss_per_site_kib", "KiB", ("<=", 32)),
    ("store_bytes_per_entry", "bytes", ("<=", 900)),
    ("http_agenda_req_per_s", "req/s", None),
    ("nginx_static_req_per_s", "req/s", None),
    ("event_show_us", "us", ("<=", 1000)),
    ("event_list_page_us", "us", None),
    ("event_window_us", "us", None),
    ("fanout_deliveries_per_s", "deliveries/s", None),
]
# name, numerator, denominator, target
RATIOS = [
    ("catchup_vs_raw_curve", "catchup_entries_per_s", "raw_curve_msgs_per_s", (">=", 0.5)),
    ("federation_catchup_vs_catchup", "federation_catchup_entries_per_s",
     "catchup_entries_per_s", None),
    ("live_vs_raw_sign", "live_entries_per_s", "raw_sign_per_s", (">=", 0.75)),
    ("catchup_vs_peer_bridge", "catchup_entries_per_s", "peer_mqtt_bridge_msgs_per_s", (">=", 5)),
    ("live_vs_peer_bridge", "live_entries_per_s", "peer_mqtt_bridge_msgs_per_s", (">=", 1.2)),
    ("latency_p99_vs_floor", "latency_p99_us", "floor_us", ("<=", 2.5)),
    ("http_agenda_vs_nginx_static", "http_agenda_req_per_s", "nginx_static_req_per_s",
     (">=", 0.5)),
    ("fanout_vs_raw_curve", "fanout_deliveries_per_s", "raw_curve_msgs_per_s", (">=", 1.0)),
]
# parts of the latency floor, shown in the table (not JSON keys of their own)
FLOOR_PARTS = [
    ("floor_us", "us", "1 CURVE round trip + 2 durable commits (p50s)"),
    ("floor_curve_rtt_p50_us", "us", ""),
    ("floor_commit_p50_us", "us", ""),
    ("floor_curve_rtt_p99_us", "us", ""),
    ("floor_commit_p99_us", "us", ""),
]


def load(path):
    samples, nulls, info = {}, {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t", 2)
            if len(parts) != 3:
                continue
            kind, name, val = parts
            if kind == "sample":
                try:
                    samples.setdefault(name, []).append(float(val))
                except ValueError:
                    nulls[name] = "not a number: %r" % val
            elif kind == "null":
                nulls.setdefault(name, val)
            elif kind == "info":
                info.append((name, val))
    return samples, nulls, info


def meets(target, value):
    if target is None or value is None:
        return None
    op, bound = target
    return value >= bound if op == ">=" else value <= bound


def figure(name, unit, target, samples, nulls):
    runs = samples.get(name, [])
    if name in nulls or not runs:
        reason = nulls.get(name, "no samples")
        return {"median": None, "min": None, "max": None, "runs": [], "unit": unit,
                "target": fmt_target(target), "meets_target": None, "reason": reason}
    med = statistics.median(runs)
    return {"median": med, "min": min(runs), "max": max(runs), "runs": runs, "unit": unit,
            "target": fmt_target(target), "meets_target": meets(target, med), "reason": None}


def ratio(name, num, den, target, figs):
    a, b = figs[num], figs[den]
    out = {"median": None, "min": None, "max": None, "runs": [], "unit": "ratio",
           "of": "%s / %s" % (num, den), "target": fmt_target(target),
           "meets_target": None, "reason": None}
    missing = [n for n, f in ((num, a), (den, b)) if f["median"] is None]
    if missing:
        out["reason"] = "; ".join("%s: %s" % (n, figs[n]["reason"]) for n in missing)
        return out
    if b["median"] == 0 or b["min"] == 0:
        out["reason"] = "%s is 0" % den
        return out
    out["median"] = a["median"] / b["median"]
    out["min"] = a["min"] / b["max"]
    out["max"] = a["max"] / b["min"]
    out["meets_target"] = meets(target, out["median"])
    return out


def fmt_target(target):
    return None if target is None else "%s %g" % target


def fmt_num(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return "{:,.0f}".format(v)
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.2f" % v


def table(figs, ratios, extra, info, out):
    for k, v in info:
        print("%s: %s" % (k, v), file=out)
    print("", file=out)
    print("| figure | median | min | max | unit | target | |", file=out)
    print("|---|---:|---:|---:|---|---|---|", file=out)

    def row(name, f):
        if f["median"] is None:
            verdict = "null: " + f["reason"]
        elif f["meets_target"] is None:
            verdict = ""
        else:
            verdict = "meets" if f["meets_target"] else "MISSES"
        print("| `%s` | %s | %s | %s | %s | %s | %s |" % (
            name, fmt_num(f["median"]), fmt_num(f["min"]), fmt_num(f["max"]),
            f["unit"], f["target"] or "", verdict), file=out)

    for name, _, _ in FIGURES:
        row(name, figs[name])
    for name, _, _, _ in RATIOS:
        row(name, ratios[name])
    for name, _, _ in FLOOR_PARTS:
        row(name, extra[name])


def main(argv):
    if len(argv) < 2:
        print("usage: bench_report.py SAMPLES_FILE [--json]", file=sys.stderr)
        return 2
    as_json = "--json" in argv[2:]
    samples, nulls, info = load(argv[1])
    figs = {n: figure(n, u, t, samples, nulls) for n, u, t in FIGURES}
    extra = {n: figure(n, u, None, samples, nulls) for n, u, _ in FLOOR_PARTS}
    both = dict(figs, **extra)
    ratios = {n: ratio(n, a, b, t, both) for n, a, b, t in RATIOS}
    if as_json:
        table(figs, ratios, extra, info, sys.stderr)
        obj = dict(figs)
        obj.update(ratios)
        print(json.dumps(obj, indent=2))
    else:
        table(figs, ratios, extra, info, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
