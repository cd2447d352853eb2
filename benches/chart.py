#!/usr/bin/env python3
"""Draws calls/s against the number of concurrent callers from the figures
`cargo bench` writes, as an SVG (standard library only).

    python3 benches/chart.py [target/bench-results/converse.json] [benches/concurrency.svg]
"""

import json
import math
import sys

SOURCE = sys.argv[1] if len(sys.argv) > 1 else "target/bench-results/converse.json"
OUT = sys.argv[2] if len(sys.argv) > 2 else "benches/concurrency.svg"

with open(SOURCE) as f:
    results = json.load(f)

callers = ["1", "8", "64"]
conc = results.get("concurrency", {})
py = (results.get("python_concurrency") or {}).get("calls_per_s", {})
cap = (results.get("server_capacity") or {}).get("tiny_calls_per_s", {})


def side(name):
    return [conc.get(n, {}).get(name, {}).get("calls_per_s") for n in callers]


series = [
    ("bedrock-converse converse_with: threads, one Converser", "#d62728", side("wrapper_threads"), ""),
    ("bedrock-converse converse_with_on_runtime: threads, one Converser", "#ff7f0e", side("wrapper_send_threads"), ""),
    ("raw async SDK: tasks, multi-thread runtime", "#1f77b4", side("raw_tasks_multi_thread"), ""),
    ("raw async SDK: tasks, current-thread runtime", "#17becf", side("raw_tasks_current_thread"), ""),
    ("Python wrapper (boto3): threads", "#2ca02c", [py.get(n) for n in callers], ""),
    ("local server capacity (bare HTTP reader)", "#7f7f7f", [cap.get(n) for n in callers], "6,4"),
]

W, H = 1000, 460
left, right, top, bottom = 80, 430, 50, 60
pw, ph = W - left - right, H - top - bottom
values = [v for _, _, vs, _ in series for v in vs if v]
ymax = max(values) if values else 1.0
step = 10 ** (math.floor(math.log10(ymax)) - 1)
for m in (1, 2, 2.5, 5, 10):
    if ymax / (m * step) <= 8:
        step *= m
        break
ymax = math.ceil(ymax / step) * step


def x(i):
    return left + pw * i / (len(callers) - 1)


def y(v):
    return top + ph * (1 - v / ymax)


machine = results.get("machine", {})
title = "Calls/s of a tiny streamed reply vs concurrent callers"
sub = "{} cores, {}, {}; {}".format(
    machine.get("nproc", "?"), machine.get("cpu", "?"), machine.get("date", "?"), results.get("mode", "")
)
svg = [
    f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
    f'<rect width="{W}" height="{H}" fill="white"/>',
    f'<text x="{left}" y="22" font-size="15" font-weight="bold">{title}</text>',
    f'<text x="{left}" y="39" fill="#555">{sub}</text>',
]
v = 0.0
while v <= ymax + 1e-9:
    svg.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + pw}" y2="{y(v):.1f}" stroke="#ddd"/>')
    svg.append(f'<text x="{left - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{v:,.0f}</text>')
    v += step
for i, n in enumerate(callers):
    svg.append(f'<line x1="{x(i):.1f}" y1="{top}" x2="{x(i):.1f}" y2="{top + ph}" stroke="#eee"/>')
    svg.append(f'<text x="{x(i):.1f}" y="{top + ph + 18}" text-anchor="middle">{n}</text>')
svg.append(f'<text x="{left + pw / 2}" y="{H - 15}" text-anchor="middle">concurrent callers (threads or tasks)</text>')
svg.append(
    f'<text transform="translate(20,{top + ph / 2}) rotate(-90)" text-anchor="middle">calls per second</text>'
)
svg.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
for k, (label, color, vs, dash) in enumerate(series):
    pts = [(x(i), y(v)) for i, v in enumerate(vs) if v]
    if pts:
        d = " ".join(f"{px:.1f},{py_:.1f}" for px, py_ in pts)
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        svg.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2.5"{extra}/>')
        for px, py_ in pts:
            svg.append(f'<circle cx="{px:.1f}" cy="{py_:.1f}" r="4" fill="{color}"/>')
    ly = top + 10 + 22 * k
    lx = left + pw + 16
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    svg.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{color}" stroke-width="2.5"{extra}/>')
    svg.append(f'<text x="{lx + 30}" y="{ly + 4}" font-size="11">{label}</text>')
svg.append("</svg>")

with open(OUT, "w") as f:
    f.write("\n".join(svg) + "\n")
print(f"wrote {OUT}")
