#!/usr/bin/env bash
# NAME
#	bench.sh - make bench: mxguard's costs as ratios measured in one run
# DESCRIPTION
#	1. The XDP program per packet against bare XDP_PASS and XDP_DROP
#	   programs, with 1 to 1,000,000 bans (build/tests/bench_xdp).
#	Fails if a part cannot run; timing goals are read from the ratios,
#	they do not fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) == 0 ]] || { echo "bench: needs root (BPF)" >&2; exit 1; }
echo "== XDP per-packet cost"
build/tests/bench_xdp
