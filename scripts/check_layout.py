#!/usr/bin/env python3
# NAME
#	check_layout.py - the layering of user/ holds: run by tests/run.sh
# SYNOPSIS
#	scripts/check_layout.py [BUILD]
# DESCRIPTION
#	user/ is divided into lib (code that never sees the agent), agent
#	(mxguardd's services), cmd (the commands the agent runs for the CLI)
#	and cli (the mxguard program). The Makefile's include paths already
#	keep lib from including what is above it; this checks the rest, and
#	prints one "PASS name" or "FAIL name: why" line per check:
#
#	  include_cycles  no cycle among user/'s modules (a module is NAME.c
#	                  with NAME.h), so each can be read and tested from
#	                  the bottom up;
#	  parts           lib includes only lib, agent nothing of cmd or cli,
#	                  cli only lib;
#	  cli_symbols     the mxguard binary holds no function of agent/ or
#	                  cmd/ (nm): the CLI links only what it runs.
#	The last line is "N passed, N failed"; the exit status is 1 on a failure.
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "build")
PARTS = ("lib", "agent", "cmd", "cli")
ALLOWED = {"lib": {"lib"}, "agent": {"lib", "agent"}, "cmd": {"lib", "agent", "cmd"},
           "cli": {"lib"}}
# mxguardd's main wires the commands into the agent's control server: it alone
# sees every part (the Makefile builds it with the command layer's headers).
MAINS = {"mxguardd": {"lib", "agent", "cmd"}}
results = []


def check(name, problems):
    results.append(not problems)
    if problems:
        print("FAIL %s: %s" % (name, "; ".join(problems[:10])))
    else:
        print("PASS %s" % name)


# The modules: user/PART/NAME.{c,h}, keyed by NAME (names are unique across parts).
modules = {}
for part in PARTS:
    d = os.path.join(TOP, "user", part)
    for f in sorted(os.listdir(d)):
        name, ext = os.path.splitext(f)
        if ext in (".c", ".h"):
            modules.setdefault(name, {"part": part, "files": []})["files"].append(
                os.path.join(d, f))

dupes = [n for n in modules if len({os.path.dirname(f) for f in modules[n]["files"]}) > 1]
edges = {n: set() for n in modules}
part_problems = ["module %s is in two parts" % n for n in dupes]
for name, m in modules.items():
    for f in m["files"]:
        for inc in re.findall(r'^#include "([^"]+)\.h"', open(f).read(), re.M):
            hdr = os.path.join(TOP, "user", modules.get(inc, {}).get("part", "-"), inc + ".h")
            if inc == name or not os.path.exists(hdr):
                continue	# headers/, build/ (skeletons), or its own header
            edges[name].add(inc)
            if modules[inc]["part"] not in MAINS.get(name, ALLOWED[m["part"]]):
                part_problems.append("%s (%s) includes %s.h (%s)" % (
                    os.path.relpath(f, TOP), m["part"], inc, modules[inc]["part"]))

# Cycles: a depth-first search that reports each back edge's cycle once.
cycles, state, stack = [], {}, []


def visit(n):
    state[n] = 1
    stack.append(n)
    for d in sorted(edges[n]):
        if state.get(d) == 1:
            cycles.append(" -> ".join(stack[stack.index(d):] + [d]))
        elif d not in state:
            visit(d)
    stack.pop()
    state[n] = 2


for n in sorted(modules):
    if n not in state:
        visit(n)
check("include_cycles", cycles)
check("parts", part_problems)

# The CLI's functions: none may come from an agent or command object.
sym_problems = []
cli = os.path.join(BUILD, "mxguard")
if not os.path.exists(cli):
    sym_problems.append("%s is not built" % cli)
else:
    def defined(path):
        out = subprocess.run(["nm", "--defined-only", path], capture_output=True,
                             text=True).stdout
        return {l.split()[-1] for l in out.splitlines() if re.match(r"\S+ [Tt] ", l)}

    above = set()
    for part in ("agent", "cmd"):
        d = os.path.join(BUILD, part)
        for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if f.endswith(".o"):
                above |= defined(os.path.join(d, f))
    if not above:
        sym_problems.append("no agent or command objects in %s to compare with" % BUILD)
    leaked = sorted(defined(cli) & above - {"main"})
    if leaked:
        sym_problems.append("agent code in the CLI: " + ", ".join(leaked[:20]))
check("cli_symbols", sym_problems)

passed = sum(results)
print("%d passed, %d failed" % (passed, len(results) - passed))
sys.exit(0 if passed == len(results) else 1)
