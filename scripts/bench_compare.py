#!/usr/bin/env python3
"""
NAME
	bench_compare.py - two runs of bench_xdp side by side

SYNOPSIS
	scripts/bench_compare.py BEFORE.json AFTER.json [RESULTS.csv]

DESCRIPTION
	Prints a Markdown table of every cell of the two result files that
	build/tests/bench_xdp writes: ns per packet (median, with the lowest
	and highest run) and the ratio to the bare program measured in the
	same run, before and after, with issue 13's target where it has one.
	RESULTS.csv gets the same rows with the kernel, CPU and date of each
	run.
"""
import csv
import json
import sys

# cell name -> (what it is compared to, the target ratio)
TARGETS = {
    "banned SYN": 1.5,
    "IPv6 banned SYN": 1.5,
    "SYN in a banned prefix": 1.5,
    "ACK, allowed session": 1.3,
    "data segment (100 B), allowed session": 1.3,
    "IPv6 ACK, allowed session": 1.3,
    "passing SYN, known source": 3.0,
    "IPv6 passing SYN, known source": 3.0,
    "SYN, new source (bucket created)": 5.0,
    "SYN, 500,000 sources in turn": 5.0,
}


def load(path):
    with open(path) as f:
        run = json.load(f)
    return run, {(c["cell"], c["tables"]): c for c in run["cells"]}


def fmt(c):
    if c is None:
        return "-", "-"
    return f'{c["ns"]:.1f} [{c["ns_lo"]:.1f}, {c["ns_hi"]:.1f}]', f'{c["x_base"]:.2f}'


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: bench_compare.py BEFORE.json AFTER.json [RESULTS.csv]")
    brun, before = load(sys.argv[1])
    arun, after = load(sys.argv[2])
    keys = list(after) + [k for k in before if k not in after]
    print(f'before: {brun["label"]} {brun["date"]}; after: {arun["label"]} {arun["date"]}; '
          f'kernel {arun["kernel"]}, {arun["cpu"]}, {arun["cpus"]} CPUs')
    print(f'judge: {brun.get("xlated_insns", "?")} -> {arun.get("xlated_insns", "?")} xlated insns, '
          f'{brun.get("jited_bytes", "?")} -> {arun.get("jited_bytes", "?")} jited bytes')
    print()
    print("| cell | tables | before ns [lo, hi] | x bare | after ns [lo, hi] | x bare | target |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    for k in keys:
        b, a = before.get(k), after.get(k)
        t = TARGETS.get(k[0])
        bns, bx = fmt(b)
        ans, ax = fmt(a)
        base = (a or b)["base"]
        tgt = f"<= {t:.1f}x {base}" if t else ""
        print(f"| {k[0]} | {k[1]} | {bns} | {bx} | {ans} | {ax} | {tgt} |")
        for run, c in (("before", b), ("after", a)):
            if c:
                r = brun if run == "before" else arun
                rows.append([r["label"], r["date"], r["kernel"], r["cpu"], c["cell"], c["tables"],
                             c["ns"], c["ns_lo"], c["ns_hi"], c["base"], c["x_base"],
                             t if t else ""])
    if len(sys.argv) > 3:
        with open(sys.argv[3], "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["run", "date", "kernel", "cpu", "cell", "tables", "ns", "ns_lo", "ns_hi",
                        "base", "x_base", "target_x"])
            w.writerows(rows)


if __name__ == "__main__":
    main()
