#!/usr/bin/env python3
"""
NAME
	bench_report.py - make bench's results: one file, issue 13's table, a CSV, a plot

SYNOPSIS
	scripts/bench_report.py merge PARTS_DIR RESULTS.json LABEL [PART...]
	scripts/bench_report.py report RESULTS.json [--before FILE] [--baseline FILE]
				       [--csv FILE] [--plot FILE.png]

DESCRIPTION
	merge gathers the fragments that the parts of scripts/bench.sh write
	to PARTS_DIR (xdp.json from build/tests/bench_xdp; connrate,
	blocklist, maps, linerate, attack, crowdsec .json from the shell
	parts) into RESULTS.json, with the kernel, CPU, date and LABEL of
	this run. The XDP cells stay at the top level ("cells", as
	bench_xdp writes them), so an older results.json or a bare bench_xdp
	file can serve as a "before". Each PART named must have left its
	fragment with its key figures, or merge fails: a part that could not
	run fails the bench.

	report prints issue 13's table from RESULTS.json: each row (a banned
	source on live frames and under BPF_PROG_TEST_RUN, an established
	segment, a SYN within limits, a SYN from a new source and under a
	flood of distinct sources) for every table size measured (1, 10,000,
	1,000,000 exact bans, and 65,536 prefix bans besides), before and
	now, as a ratio to its bare reference, with its target and whether
	it is met; then each row's flatness over the table sizes (highest /
	lowest - 1, in %). The "before" figures come from the committed
	baseline (docs/bench/baseline.json, which names the bench_xdp file of
	the XDP cells and carries the line-rate figures of README
	"Benchmarks"); --before FILE (a bench_xdp file or an earlier
	results.json) overrides the parts it holds. Then the other XDP
	cells, every line-rate run, the connection rate, the blocklist load,
	the memory of each BPF map and of the agent, the attacks and the
	CrowdSec sync, where the results hold them.

	--csv writes every row of the table and every cell (before and now)
	with the run's kernel, CPU and date. --plot draws, with gnuplot, ns
	per packet per cell and table size next to the bare programs, and
	Mpps per judge at line rate, before and now.

	Python 3 standard library only; gnuplot (gnuplot-nox) for the plot.
"""
import csv
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

# Issue 13's targets. Per packet: the judge's cost as a multiple of the bare
# program with the same verdict (lower is better). Live frames: a banned
# source dropped at 0.9x the bare XDP_DROP program's rate or more, and at
# 3x nftables' rate or more. Flat: the highest cell of a row within 10% of
# its lowest across table sizes.
FLAT_PCT = 10.0
XDP_ROWS = [
    # (issue row, bench_xdp cell, reference, target x reference)
    ("banned source, BPF_PROG_TEST_RUN", "banned SYN", "bare XDP_DROP", 1.5),
    ("banned source, ban that ends, BPF_PROG_TEST_RUN", "banned SYN, ban that ends", "bare XDP_DROP", 1.5),
    ("established segment, ACK", "ACK, allowed session", "bare XDP_PASS", 1.3),
    ("established segment, data", "data segment (100 B), allowed session", "bare XDP_PASS", 1.3),
    ("SYN within limits, known source", "passing SYN, known source", "bare XDP_PASS", 3.0),
    ("SYN from a new source", "SYN, new source (bucket created)", "bare XDP_PASS", 5.0),
    ("SYN, flood of distinct sources", "SYN, 500,000 sources in turn", "bare XDP_PASS", 5.0),
]
LR_JUDGES = [
    # (judge key in linerate.json, label, tables)
    ("bare", "bare XDP_DROP", ""),
    ("floor", "floor: walk + 1 hash hit", "1 entry"),
    ("mx1", "mxguard", "1 ban"),
    ("mx1m", "mxguard", "1,000,001 bans"),
    ("nft1", "nftables", "1 element"),
    ("nft1m", "nftables", "1,000,001 elements"),
]
LR_TARGET_X_BARE = 0.9
LR_TARGET_X_NFT = 3.0
# part -> keys its fragment must hold
REQUIRED = {
    "xdp": ["cells"],
    "connrate": ["without", "with", "ratio"],
    "blocklist": ["entries", "load_ms", "agent_1m_bans", "list_ms", "listed"],
    "maps": ["idle", "bans_1m"],
    "linerate": ["judges"],
    "attack": ["rows"],
    "crowdsec": ["decisions", "in_force_ms", "per_s", "restart_ms"],
}
PART_FILES = {p: p + ".json" for p in REQUIRED}
# short names for the plot's axis
SHORT = {
    "banned SYN": "banned SYN",
    "ACK, allowed session": "ACK",
    "data segment (100 B), allowed session": "data segment",
    "passing SYN, known source": "SYN within limits",
    "SYN, new source (bucket created)": "SYN, new source",
    "SYN, 500,000 sources in turn": "SYN, 500k sources",
    "ACK, allowed session, no ban lookup": "ACK, no ban lookup",
    "SYN in a banned prefix": "SYN, banned prefix",
}
LR_SHORT = {"bare": "bare XDP_DROP", "floor": "floor (walk + hash)", "mx1": "mxguard 1 ban", "mx1m": "mxguard 1M bans",
            "nft1": "nftables 1", "nft1m": "nftables 1M"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def die(msg):
    sys.exit(f"bench_report: {msg}")


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        die(f"{path}: {e}")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# merge - the parts' fragments into one results file
def merge(parts_dir, out, label, required):
    res = {
        "label": label,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "kernel": platform.release(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
    }
    for part in required:
        if part not in REQUIRED:
            die(f"no part named {part}")
    for part, name in PART_FILES.items():
        path = os.path.join(parts_dir, name)
        if not os.path.exists(path):
            if part in required:
                die(f"part {part} left no figures ({path})")
            continue
        frag = load(path)
        missing = [k for k in REQUIRED[part] if k not in frag or frag[k] in (None, [], {})]
        if missing:
            die(f"part {part}: no {', '.join(missing)} in {path}")
        if part == "xdp":
            # bench_xdp's own file: its cells and how they were measured at the top level
            for k in ("method", "xlated_insns", "jited_bytes", "cells"):
                if k in frag:
                    res[k] = frag[k]
            res["xdp_date"] = frag.get("date")
        else:
            res[part] = frag
    if "linerate" in res:
        for j in res["linerate"]["judges"]:
            if len(j.get("judged_pps", [])) < 1 or min(j["judged_pps"]) <= 0:
                die(f"line rate: {j.get('judge')} judged nothing")
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    os.replace(tmp, out)


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def tables_key(t):
    """'1 ban', '10000 bans', '1000000 bans + 65536 prefix bans' -> (prefix bans, exact bans)"""
    m = re.match(r"(\d+) bans?(?: \+ (\d+) prefix bans)?$", t or "")
    if not m:
        return (1 << 62, 0, t)
    return (int(m.group(2) or 0), int(m.group(1)), t)


def tables_text(t):
    m = re.match(r"(\d+) bans?(?: \+ (\d+) prefix bans)?$", t or "")
    if not m:
        return t
    s = f"{int(m.group(1)):,} exact"
    if m.group(2):
        s += f" + {int(m.group(2)):,} prefix"
    return s


def xdp_cells(run):
    """(cell, tables) -> cell; a later cell of the same name and tables wins"""
    return {(c["cell"], c["tables"]): c for c in (run or {}).get("cells", [])}


def lr_stats(lr):
    """judge key -> {mpps, lo, hi, runs} from a results file's linerate part"""
    out = {}
    for j in (lr or {}).get("judges", []):
        runs = [x / 1e6 for x in j["judged_pps"]]
        out[j["judge"]] = {"mpps": median(runs), "lo": min(runs), "hi": max(runs), "runs": runs,
                           "offered": [x / 1e6 for x in j.get("offered_pps", [])]}
    return out


# before - the baseline, then what FILE overrides
def before_figures(baseline_path, before_path):
    src = {"xdp": None, "linerate": None}
    xdp, lr, lr_ranges = {}, {}, {}
    if baseline_path:
        base = load(baseline_path)
        if base.get("run"):
            # a whole results.json of the earlier build, measured as make bench measures now
            f = base["run"]
            before_path = before_path or (f if os.path.isabs(f) else os.path.join(ROOT, f))
        f = base.get("xdp", {}).get("file")
        if f:
            run = load(f if os.path.isabs(f) else os.path.join(ROOT, f))
            xdp = xdp_cells(run)
            src["xdp"] = f'{f} ({run.get("label", "?")}, {run.get("date", "?")})'
        if "linerate" in base:
            lr_ranges = base["linerate"]["judges"]
            src["linerate"] = base["linerate"].get("source", baseline_path)
    if before_path:
        run = load(before_path)
        if run.get("cells"):
            xdp = xdp_cells(run)
            src["xdp"] = f'{before_path} ({run.get("label", "?")}, {run.get("date", "?")})'
        if run.get("linerate"):
            lr = lr_stats(run["linerate"])
            lr_ranges = {}
            src["linerate"] = f'{before_path} ({run.get("label", "?")}, {run.get("date", "?")})'
    # the baseline's ranges (two runs each) as lo/hi with their middle
    for k, r in lr_ranges.items():
        lr[k] = {"mpps": (r["mpps"][0] + r["mpps"][-1]) / 2, "lo": r["mpps"][0], "hi": r["mpps"][-1],
                 "runs": r["mpps"], "x_bare": r.get("x_bare"), "x_nft1": r.get("x_nft1")}
    return xdp, lr, src


def rng(lo, hi, fmt):
    a, b = fmt.format(lo), fmt.format(hi)
    return a if a == b else f"{a} to {b}"


def flat_pct(values):
    return (max(values) / min(values) - 1) * 100 if values and min(values) > 0 else None


# table - issue 13's rows: (row, tables, unit, before, before x, now, now x, ref, target, met)
def issue_rows(now, bxdp, blr):
    rows = []
    cells = xdp_cells(now)
    lr = lr_stats(now.get("linerate"))

    def lr_ratio(st, refkey, stats):
        """st's rate over refkey's, as a number and as text; the baseline's own ratios where it has them"""
        if st is None:
            return None, ""
        if st.get("x_" + refkey):
            r = st["x_" + refkey]
            return r[0], rng(r[0], r[-1], "{:.2f}")
        ref_st = stats.get(refkey)
        if ref_st is None:
            return None, ""
        x = st["mpps"] / ref_st["mpps"]
        return x, f"{x:.2f}"

    def lr_text(st):
        if st is None:
            return ""
        if len(st["runs"]) == 3:
            return f'{st["mpps"]:.2f} [{st["lo"]:.2f}, {st["hi"]:.2f}]'
        return rng(st["lo"], st["hi"], "{:.2f}")

    # live frames: mxguard against the bare program and against nftables with as many entries
    for key, nft, tables in (("mx1", "nft1", "1 exact"), ("mx1m", "nft1m", "1,000,001 exact")):
        for ref, refkey, target in (("bare XDP_DROP", "bare", LR_TARGET_X_BARE),
                                    ("nftables, " + ("1 element" if nft == "nft1" else
                                                     "1,000,001 elements"), nft, LR_TARGET_X_NFT)):
            n, b = lr.get(key), blr.get(key)
            _, bx = lr_ratio(b, refkey, blr)
            nx, nxt = lr_ratio(n, refkey, lr)
            rows.append(["banned source, live frames", tables, "Mpps", lr_text(b), bx, lr_text(n), nxt,
                         ref, f">= {target:.2f}x", met(nx, target, higher=True)])
    bv = [blr[k]["mpps"] for k in ("mx1", "mx1m") if k in blr]
    nv = [lr[k]["mpps"] for k in ("mx1", "mx1m") if k in lr]
    rows.append(flat_row("banned source, live frames", bv, nv))

    for row, cell, ref, target in XDP_ROWS:
        keys = sorted({k[1] for k in list(cells) + list(bxdp) if k[0] == cell}, key=tables_key)
        bvals, nvals = [], []
        for t in keys:
            b, n = bxdp.get((cell, t)), cells.get((cell, t))
            if b:
                bvals.append(b["ns"])
            if n:
                nvals.append(n["ns"])
            rows.append([row, tables_text(t), "ns/pkt",
                         f'{b["ns"]:.1f}' if b else "", f'{b["x_base"]:.2f}' if b else "",
                         f'{n["ns"]:.1f} [{n["ns_lo"]:.1f}, {n["ns_hi"]:.1f}]' if n else "",
                         f'{n["x_base"]:.2f}' if n else "", ref, f"<= {target:.1f}x",
                         "? (cheaper than its bare program: a disturbed run)" if n and n["x_base"] < 1
                         else met(n["x_base"] if n else None, target, higher=False)])
        if len(keys) > 1:
            rows.append(flat_row(row, bvals, nvals))
    return rows


def met(value, target, higher):
    if value is None:
        return "not measured"
    return "met" if (value >= target if higher else value <= target) else "missed"


def flat_row(row, bvals, nvals):
    b, n = flat_pct(bvals), flat_pct(nvals)
    return [row, "flatness over the table sizes", "%", f"{b:.0f}" if b is not None else "", "",
            f"{n:.0f}" if n is not None else "", "", "highest / lowest - 1", f"<= {FLAT_PCT:.0f}%",
            met(n, FLAT_PCT, higher=False) if len(nvals) > 1 else "not measured"]


def md(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")


def report(path, before, baseline, csv_path, plot_path):
    now = load(path)
    bxdp, blr, src = before_figures(baseline, before)
    print(f'now: {now.get("label", "?")} {now.get("date", "?")}; kernel {now.get("kernel", "?")}, '
          f'{now.get("cpu", "?")}, {now.get("cpus", "?")} CPUs')
    print(f'before: XDP cells from {src["xdp"] or "nowhere"}; line rate from {src["linerate"] or "nowhere"}')
    if "xlated_insns" in now:
        print(f'the judge: {now["xlated_insns"]} xlated insns, {now["jited_bytes"]} jited bytes; '
              f'{now.get("method", "")}')
    print()
    print("Issue 13: per packet, ns (median [lowest, highest run]); at line rate, Mpps "
          "(median [lowest, highest] of 3 runs; before: two runs' range)")
    print()
    header = ["row", "tables", "unit", "before", "x ref", "now", "x ref", "ref", "target", "met"]
    rows = issue_rows(now, bxdp, blr)
    md(header, rows)
    for k, c in xdp_cells(now).items():
        if k[0].startswith("bare XDP") and c["ns_hi"] > 1.5 * c["ns_lo"]:
            print(f'\nnote: the {k[0]} runs spread from {c["ns_lo"]:.1f} to {c["ns_hi"]:.1f} ns: the machine '
                  f'was not quiet, and every ratio to it is uncertain in this run')

    cells = xdp_cells(now)
    shown = {c for _, c, _, _ in XDP_ROWS}
    other = [k for k in list(cells) + [k for k in bxdp if k not in cells] if k[0] not in shown]
    if other:
        print()
        print("Other XDP cells, ns per packet:")
        print()
        orows = []
        for k in other:
            b, n = bxdp.get(k), cells.get(k)
            c = n or b
            orows.append([k[0], tables_text(k[1]), f'{b["ns"]:.1f}' if b else "",
                          f'{b["x_base"]:.2f}' if b else "",
                          f'{n["ns"]:.1f} [{n["ns_lo"]:.1f}, {n["ns_hi"]:.1f}]' if n else "",
                          f'{n["x_base"]:.2f}' if n else "", c["base"]])
        md(["cell", "tables", "before", "x ref", "now", "x ref", "ref"], orows)
    extras(now)
    if csv_path:
        write_csv(csv_path, now, rows, bxdp, src)
    if plot_path:
        plot(plot_path, now, bxdp, blr)


def extras(now):
    lr = now.get("linerate")
    if lr:
        st = lr_stats(lr)
        print()
        print(f'Line rate: banned SYNs, 64 B frames, one generator core, 3 runs x {lr.get("seconds", "?")} s '
              f'(Mpps judged; offered by the generator)')
        print()
        rows = []
        for key, label, tables in LR_JUDGES:
            if key in st:
                s = st[key]
                rows.append([f"{label} {tables}".strip(), ", ".join(f"{x:.2f}" for x in s["runs"]),
                             f'{s["mpps"]:.2f}', ", ".join(f"{x:.2f}" for x in s["offered"]),
                             f'{s["mpps"] / st["bare"]["mpps"]:.2f}' if "bare" in st else "",
                             f'{s["mpps"] / st["nft1"]["mpps"]:.2f}' if "nft1" in st else ""])
        md(["judge", "runs", "median", "offered", "x bare XDP_DROP", "x nftables 1"], rows)
    c = now.get("connrate")
    if c:
        print()
        print(f'Connection setup rate (median of 3): without mxguard {c["without"]["rate"]:,.0f}/s '
              f'(runs {", ".join(f"{x:,.0f}" for x in c["without"].get("runs", []))}), with '
              f'{c["with"]["rate"]:,.0f}/s (runs {", ".join(f"{x:,.0f}" for x in c["with"].get("runs", []))}); '
              f'ratio {c["ratio"]:.2f}')
    b = now.get("blocklist")
    if b:
        a = b["agent_1m_bans"]
        print()
        print(f'Blocklist of {b["entries"]:,}: loaded in {b["load_ms"]:,} ms, journal {b["journal_kb"]:,} kB; '
              f'ban list streamed {b["listed"]:,} bans in {b["list_ms"]:,} ms')
        print(f'Agent memory: VmRSS {b["rss_before_kb"]:,} kB before the load; with {b["entries"]:,} bans '
              f'VmRSS {a["vmrss_kb"]:,} kB, VmHWM {a["vmhwm_kb"]:,} kB; after ban list VmHWM '
              f'{b.get("hwm_after_list_kb", 0):,} kB')
    m = now.get("maps")
    if m:
        print()
        print("BPF maps (bpftool memlock, the kernel's own figure; a map without preallocation, flags 0x1,")
        print("and an LPM trie count what they hold, so their figure grows with their entries):")
        print()
        loaded = {x["name"]: x for x in m["bans_1m"]}
        rows, tot0, tot1 = [], 0, 0
        for x in sorted(m["idle"], key=lambda x: -x.get("bytes_memlock", 0)):
            y = loaded.get(x["name"], {})
            tot0 += x.get("bytes_memlock", 0)
            tot1 += y.get("bytes_memlock", 0)
            rows.append([x["name"], x.get("type", ""), f'{x.get("flags", 0):#x}', f'{x.get("max_entries", 0):,}',
                         f'{x.get("bytes_key", 0)} / {x.get("bytes_value", 0)}',
                         f'{x.get("bytes_memlock", 0) / 2**20:.2f}',
                         f'{y.get("bytes_memlock", 0) / 2**20:.2f}' if y else ""])
        rows.append(["total", "", "", "", "", f"{tot0 / 2**20:.1f}", f"{tot1 / 2**20:.1f}"])
        md(["map", "type", "flags", "max_entries", "key / value B", "MiB, agent started",
            "MiB, 1,000,000 bans"], rows)
        b4 = ({x["name"]: x for x in m["idle"]}.get("ban4"), loaded.get("ban4"))
        if all(b4) and b4[1]["bytes_memlock"] > b4[0]["bytes_memlock"]:
            per = (b4[1]["bytes_memlock"] - b4[0]["bytes_memlock"]) / (now.get("blocklist") or {}).get("listed", 1e6)
            full = b4[0]["bytes_memlock"] + per * b4[0]["max_entries"]
            print(f'\nban4 took {per:.0f} B per ban beyond its empty table; full ({b4[0]["max_entries"]:,} '
                  f'entries) it would take about {full / 2**20:.0f} MiB')
    at = now.get("attack")
    if at:
        print()
        print("The agent under attack:")
        print()
        md(["attack", "slowest answer ms", "p99 ms", "longest loop turn ms"],
           [[r["attack"], r["worst_ms"], r.get("p99_ms", ""), r["loop_ms"]] for r in at["rows"]])
        if at.get("rss_1m_bans_kb"):
            print(f'\nagent VmRSS after a restart with 1,000,000 bans: {at["rss_1m_bans_kb"]:,} kB')
    cs = now.get("crowdsec")
    if cs:
        print()
        print(f'CrowdSec start-up sync: {cs["decisions"]:,} decisions in force {cs["in_force_ms"]:,} ms after '
              f'the start ({cs["per_s"]:,.0f}/s, {cs["per_s"] / cs["published_per_s"]:.0f}x the '
              f'{cs["published_per_s"]}/s published for cs-firewall-bouncer nftables), longest loop turn '
              f'{cs["loop_ms"]} ms; after a restart replaced in {cs["restart_ms"]:,} ms, longest turn '
              f'{cs["restart_loop_ms"]} ms')


def write_csv(path, now, rows, bxdp, src):
    run = [now.get("label", ""), now.get("date", ""), now.get("kernel", ""), now.get("cpu", "")]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["section", "run", "date", "kernel", "cpu", "row_or_cell", "tables", "unit",
                    "before", "before_x_ref", "now", "now_lo", "now_hi", "now_x_ref", "ref",
                    "target", "met", "before_source"])
        for r in rows:
            m = re.match(r"([\d.]+)(?: \[([\d.]+), ([\d.]+)\])?$", r[5])
            nv = m.groups() if m else (r[5], "", "")
            w.writerow(["issue13"] + run + [r[0], r[1], r[2], r[3], r[4], nv[0], nv[1] or "",
                                             nv[2] or "", r[6], r[7], r[8], r[9],
                                             src["linerate"] if r[2] == "Mpps" else src["xdp"]])
        for k, c in xdp_cells(now).items():
            b = bxdp.get(k)
            w.writerow(["xdp"] + run + [k[0], k[1], "ns/pkt", b["ns"] if b else "",
                                         b["x_base"] if b else "", c["ns"], c["ns_lo"], c["ns_hi"],
                                         c["x_base"], c["base"], "", "", src["xdp"]])
        for key, st in lr_stats(now.get("linerate")).items():
            for i, x in enumerate(st["runs"]):
                w.writerow(["linerate"] + run + [key, f"run {i + 1}", "Mpps", "", "", x, "", "", "",
                                                  "", "", "", ""])
        for state in ("idle", "bans_1m"):
            for x in (now.get("maps") or {}).get(state, []):
                w.writerow(["map_memory"] + run + [x["name"], state, "bytes", "", "",
                                                    x.get("bytes_memlock", ""), "", "", "",
                                                    f'max_entries {x.get("max_entries", "")}', "", "",
                                                    ""])


def gp_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# plot - two panels: ns/pkt per cell and table size, Mpps per judge
def plot(png, now, bxdp, blr):
    cells = xdp_cells(now)
    sizes = sorted({k[1] for k in cells if tables_key(k[1])[0] < (1 << 62)}, key=tables_key)
    # cells measured at two table sizes or more, in the issue's order, then the rest
    order = [c for _, c, _, _ in XDP_ROWS] + sorted({k[0] for k in cells})
    multi = []
    for c in order:
        if c not in multi and sum((c, t) in cells for t in sizes) > 1:
            multi.append(c)
    lr = lr_stats(now.get("linerate"))
    if not multi and not lr:
        print(f"no plot: neither XDP cells at several table sizes nor line rate in this run", file=sys.stderr)
        return
    d = os.path.join(os.path.dirname(os.path.abspath(png)), "plot")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "xdp.dat"), "w") as f:
        f.write("# cell " + " ".join(f"{gp_str(t)} lo hi" for t in sizes) + " then before, per size\n")
        for c in multi:
            vals = []
            for t in sizes:
                x = cells.get((c, t))
                vals += [f'{x["ns"]} {x["ns_lo"]} {x["ns_hi"]}' if x else "? ? ?"]
            for t in sizes:
                x = bxdp.get((c, t))
                vals += [f'{x["ns"]}' if x else "?"]
            f.write(f"{gp_str(SHORT.get(c, c))} " + " ".join(vals) + "\n")
    bare = {k[0]: v for k, v in cells.items() if k[0].startswith("bare XDP")}
    with open(os.path.join(d, "linerate.dat"), "w") as f:
        f.write("# judge before lo hi now lo hi now-as-text-x-bare\n")
        for key, label, tables in LR_JUDGES:
            b, n = blr.get(key), lr.get(key)
            bs = f'{b["mpps"]} {b["lo"]} {b["hi"]}' if b else "? ? ?"
            ns = f'{n["mpps"]} {n["lo"]} {n["hi"]}' if n else "? ? ?"
            if n and "bare" in lr:
                ns += f' "{n["mpps"] / lr["bare"]["mpps"]:.2f}x"'
            else:
                ns += ' ""'
            f.write(f'{gp_str(LR_SHORT[key])} {bs} {ns}\n')
    meds = [cells[(c, t)]["ns"] for c in multi for t in sizes if (c, t) in cells]
    logy = bool(meds) and max(meds) / max(min(meds), 1) > 20
    gp = [
        "set terminal pngcairo noenhanced size 1500,640 font 'sans,10'",
        f"set output {gp_str(png)}",
        "set multiplot layout 1,2 title " + gp_str(
            f'mxguard make bench: {now.get("label", "")} {now.get("date", "")}, kernel '
            f'{now.get("kernel", "")}, {now.get("cpu", "")} x {now.get("cpus", "")}'),
        "set style data histogram",
        "set style histogram errorbars gap 2 lw 1",
        "set style fill solid 0.8 border -1",
        "set boxwidth 0.9",
        "set grid ytics",
        "set key top left",
        "set xtics scale 0 font ',9'",
        "set datafile missing '?'",
    ]
    if multi:
        gp += [
            "set title 'XDP judge per packet (BPF_PROG_TEST_RUN, median, lowest-highest run)'",
            "set ylabel " + gp_str("ns per packet" + (" (log scale)" if logy else "")),
            "set logscale y" if logy else "unset logscale y",
            "set yrange [" + ("1" if logy else "0") + ":*]",
        ]
        lines = []
        for (name, x), (dt, lc) in zip(sorted(bare.items()), ((2, "#404040"), (3, "#a0a0a0"))):
            title = gp_str(f'{name} {x["ns"]:.1f} ns')
            lines.append(f'{x["ns"]} with lines dt {dt} lw 2 lc rgb "{lc}" title {title}')
        plots = [f'{gp_str(d + "/xdp.dat")} using {2 + 3 * i}:{3 + 3 * i}:{4 + 3 * i}'
                 f'{":xtic(1)" if i == 0 else ""} title {gp_str(tables_text(t))}'
                 for i, t in enumerate(sizes)]
        n = len(sizes)
        # before: a mark on each bar (a cluster's bars sit at k + (j - (n - 1) / 2) / (n + gap))
        plots.append(f'for [j=0:{n - 1}] {gp_str(d + "/xdp.dat")} using ($0 + (j - {(n - 1) / 2}) / {n + 2}.0):'
                     f'(column({2 + 3 * n} + j)) with points pt 9 ps 1.6 lc rgb "black" '
                     f'title (j == 0 ? "before, same cell and tables" : "")')
        gp.append("plot " + ", \\\n\t".join(plots + lines))
    else:
        gp.append("set multiplot next")
    # A baseline's line-rate ranges from another machine are not shown beside this
    # run's rates; a whole earlier results.json's are.
    same_machine = blr and not any(b.get("x_bare") for b in blr.values())
    if lr:
        gp += [
            "unset logscale y",
            "set yrange [0:*]",
            "set title 'Banned SYNs at line rate (live frames, one generator core; median, lowest-highest of 3)'",
            "set ylabel 'Mpps judged'",
            "set offsets 0, 0, graph 0.12, 0",
            "set key top right",
            "set xtics rotate by -20",
            (f'plot {gp_str(d + "/linerate.dat")} using 2:3:4:xtic(1) title "before", \\\n'
             f'\t"" using 5:6:7 title "now"') if same_machine else
            f'plot {gp_str(d + "/linerate.dat")} using 5:6:7:xtic(1) lc 2 title "now (x bare XDP_DROP)", \\\n'
            f'\t"" using ($0):($7):8 with labels offset 0,1 notitle',
        ]
    gp.append("unset multiplot")
    script = os.path.join(d, "plot.gp")
    with open(script, "w") as f:
        f.write("\n".join(gp) + "\n")
    r = subprocess.run(["gnuplot", script], capture_output=True, text=True)
    if r.returncode or not os.path.getsize(png):
        die(f"gnuplot failed on {script}: {r.stderr.strip()}")
    if r.stderr.strip():
        print(r.stderr.strip(), file=sys.stderr)


def main():
    a = sys.argv[1:]
    if len(a) >= 4 and a[0] == "merge":
        merge(a[1], a[2], a[3], a[4:])
        return
    if len(a) >= 2 and a[0] == "report":
        opts = {"--before": None, "--baseline": None, "--csv": None, "--plot": None}
        rest = a[2:]
        while rest:
            if rest[0] not in opts or len(rest) < 2:
                die(f"what is '{rest[0]}'?")
            opts[rest[0]] = rest[1]
            rest = rest[2:]
        report(a[1], opts["--before"], opts["--baseline"], opts["--csv"], opts["--plot"])
        return
    sys.exit(__doc__.split("DESCRIPTION")[0].strip())


if __name__ == "__main__":
    main()
