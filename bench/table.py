"""Markdown table of one compare.sh run: steps/s per framework and Overparam's ratios.

Each Overparam row is read against the sgemm rate measured just before it in the same file; where
the file has `overparam bench --vs-sgemm` lines, their same-minute ratios follow the table."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]
by, sgemm_for, last_sgemm, vs = {}, {}, None, {}
for r in rows:
    if r.get("measure") == "vs_sgemm1024":
        vs[r["name"]] = r
        continue
    if r["name"] == "sgemm1024":
        last_sgemm = r["gflops"]
        continue
    by.setdefault(r["name"], {})[r["framework"]] = r
    if r["framework"] == "overparam":
        sgemm_for[r["name"]] = last_sgemm
rates = [v for v in sgemm_for.values() if v]
print(f"Run: {sys.argv[1]}" + (f"; sgemm 1024³ on one thread, measured before each shape: {min(rates):.1f}–{max(rates):.1f} GFLOP/s" if rates else ""))
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
    g = sgemm_for.get(name)
    pct = f"{100 * o['gflops'] / g:.0f}% of {g:.0f}" if g else "—"
    print(f"| {name} | {o['parameters']:,} | {sps:,.1f} | {cell(t)} | {cell(j)} | {ratio(t)} | {ratio(j)} | {o['gflops']:.1f} | {pct} |")
if vs:
    print()
    print("Same-minute sgemm ratio (`overparam bench --vs-sgemm`, median of window pairs, range in brackets): " +
          "; ".join(f"{n} {100 * r['fraction_of_sgemm']:.1f}% ({100 * r['fraction_min']:.0f}–{100 * r['fraction_max']:.0f}%) of {r['sgemm_gflops']:.0f}"
                    for n, r in vs.items()))
