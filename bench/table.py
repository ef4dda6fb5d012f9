"""Markdown table of one compare.sh run: steps/s per framework and Overparam's ratios."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]
sgemm = next((r["gflops"] for r in rows if r["name"] == "sgemm1024"), None)
by = {}
for r in rows:
    if r["name"] != "sgemm1024":
        by.setdefault(r["name"], {})[r["framework"]] = r
print(f"Run: {sys.argv[1]}" + (f"; sgemm 1024³ on one thread: {sgemm:.1f} GFLOP/s" if sgemm else ""))
print()
print("| shape | params | Overparam steps/s | PyTorch steps/s | JAX steps/s | × PyTorch | × JAX | Overparam GFLOP/s | % of sgemm |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, f in by.items():
    o, t, j = f.get("overparam"), f.get("pytorch"), f.get("jax")
    if not o:
        continue
    sps = o["steps_per_second"]
    cell = lambda r: f"{r['steps_per_second']:,.1f}" if r else "—"
    ratio = lambda r: f"{sps / r['steps_per_second']:.2f}" if r else "—"
    pct = f"{100 * o['gflops'] / sgemm:.0f}%" if sgemm else "—"
    print(f"| {name} | {o['parameters']:,} | {sps:,.1f} | {cell(t)} | {cell(j)} | {ratio(t)} | {ratio(j)} | {o['gflops']:.1f} | {pct} |")
