#!/usr/bin/env python3
"""Medians per tool and scenario from bench/peers.sh's results.jsonl (and ceiling.jsonl), ratios
of ferry to the fastest peer measured in the same run, and the issue's targets. Markdown."""
import json
import os
import statistics
import sys

out = sys.argv[1]
rows = [json.loads(l) for l in open(os.path.join(out, "results.jsonl"))] if os.path.exists(
    os.path.join(out, "results.jsonl")) else []
TARGET = {"a": 1.2, "b": 1.5, "c": 1.0, "d": 2.0}
TITLE = {
    "a": "(a) one identity, server-side: objects/s",
    "b": "(b) two identities, streamed: objects/s",
    "c": "(c) large objects streamed between two identities: MiB/s and peak RSS",
    "d": "(d) sync of an unchanged prefix: seconds to decide nothing is to do",
}
def per_round(rs):
    return ", ".join("%.2f%s" % (r["seconds"], "" if r["ok"] else " (failed)") for r in rs)


print(open(os.path.join(out, "versions.txt")).read().strip().replace("\n", "  \n"))
print()
for sc in "abcd":
    runs = [r for r in rows if r["scenario"] == sc]
    if not runs:
        continue
    tools = list(dict.fromkeys(r["tool"] for r in runs))
    n, b = runs[0]["objects"], runs[0]["bytes"]
    print(f"### {TITLE[sc]} ({n:,} objects, {b / 1048576:,.0f} MiB)\n")
    print("| tool | median s | objects/s | MiB/s | peak RSS MiB | CPU s | runs ok | seconds per round |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    med = {}
    for t in tools:
        rs = [r for r in runs if r["tool"] == t]
        good = [r for r in rs if r["ok"]]
        use = good or rs
        s = statistics.median(r["seconds"] for r in use)
        rss = max(r["peak_rss_mib"] for r in use)
        cpu = statistics.median(r["cpu_s"] for r in use)
        if good:
            med[t] = (s, rss)
        print(f"| {t} | {s:.2f} | {n / s:,.0f} | {b / s / 1048576:,.1f} | {rss:,.0f} | {cpu:.1f} | "
              f"{len(good)}/{len(rs)} | {per_round(rs)} |")
    # ferry-sdk is ferry with --sdk-only (run only when TOOLS names it): a same-run A/B of
    # the lean request path, not a peer.
    peers = {t: v for t, v in med.items() if not t.startswith("ferry")}
    print()
    if "ferry" in med and "ferry-sdk" in med:
        print(f"ferry / ferry --sdk-only, medians: {med['ferry-sdk'][0] / med['ferry'][0]:.2f}x  ")
    if peers:
        best = min(peers, key=lambda t: peers[t][0])
        if "ferry" in med:
            ratio = peers[best][0] / med["ferry"][0]
            met = ratio >= TARGET[sc]
            extra = ""
            if sc == "c":
                met = met and med["ferry"][1] <= 256
                extra = f", ferry peak RSS {med['ferry'][1]:.0f} MiB (target <= 256)"
            print(f"ferry / fastest peer ({best}), medians: **{ratio:.2f}x** (target >= {TARGET[sc]}x{extra}): "
                  f"{'met' if met else 'not met'}  ")
            # The same ratio round by round (each round's fastest peer against ferry in that
            # round): the figure least moved by load that comes and goes between rounds.
            per = []
            for rnd in sorted({r["round"] for r in runs}):
                f = [r for r in runs if r["round"] == rnd and r["tool"] == "ferry" and r["ok"]]
                p = [r for r in runs
                     if r["round"] == rnd and not r["tool"].startswith("ferry") and r["ok"]]
                if f and p:
                    q = min(p, key=lambda r: r["seconds"])
                    per.append((q["seconds"] / f[0]["seconds"], q["tool"]))
            if per:
                print("round by round: " + ", ".join(f"{x:.2f}x ({t})" for x, t in per)
                      + f"; median {statistics.median(x for x, _ in per):.2f}x\n")
        else:
            print(f"fastest peer: {best} ({peers[best][0]:.2f} s); ferry: pending\n")
cp = os.path.join(out, "ceiling.jsonl")
if os.path.exists(cp):
    cs = [json.loads(l) for l in open(cp)]
    print("### Ceiling: the emulator alone (aws-sdk-s3 load generator, same loopback)\n")
    print("| object size | phase | median ops/s | MiB/s | server CPU us/op | errors |")
    print("| --- | --- | --- | --- | --- | --- |")
    for size in sorted({c["size"] for c in cs}):
        for ph in ("put", "get"):
            xs = [c for c in cs if c["size"] == size and c["phase"] == ph]
            if not xs:
                continue
            o = statistics.median(c["ops_per_s"] for c in xs)
            cpu = statistics.median(c.get("server_cpu_us_per_op") or 0 for c in xs)
            print(f"| {size:,} | {ph.upper()} | {o:,.0f} | {o * size / 1048576:,.0f} | {cpu:,.0f} | "
                  f"{sum(c['errors'] for c in xs)} |")
    print()
