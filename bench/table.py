"""Markdown table of one compare.sh run: steps/s per framework and Overparam's ratios.

A run has one or more rounds (`{"round": r}` lines start each; a file without them is one round).
Each steps/s cell is the median over the rounds; each ratio is the median of the rounds' own
ratios, Overparam against the peer measured beside it in the same round, with their range in
brackets when there are several. Each Overparam row is read against the sgemm rate measured just
before it; where the file has `overparam bench --vs-sgemm` lines, their same-minute ratios follow
the table."""
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]
# by[name][round][framework] = row; sgemm_for[name][round] = the sgemm rate before the row
by, sgemm_for, last_sgemm, vs, rnd = {}, {}, None, {}, 0
for r in rows:
    if "round" in r and "name" not in r:
        rnd = r["round"]
        continue
    if r.get("measure") == "vs_sgemm1024":
        vs[r["name"]] = r
        continue
    if r["name"] == "sgemm1024":
        last_sgemm = r["gflops"]
        continue
    by.setdefault(r["name"], {}).setdefault(rnd, {})[r["framework"]] = r
    if r["framework"] == "overparam":
        sgemm_for.setdefault(r["name"], {})[rnd] = last_sgemm
rounds = max((len(v) for v in by.values()), default=0)
rates = [g for v in sgemm_for.values() for g in v.values() if g]


def spread(values, fmt):
    """Median, with the range in brackets when there are several values."""
    m = fmt(statistics.median(values))
    return m if len(values) < 2 else f"{m} ({fmt(min(values))}–{fmt(max(values))})"


print(f"Run: {sys.argv[1]}" + (f", {rounds} rounds" if rounds > 1 else "") +
      (f"; sgemm 1024³ on one thread, measured before each shape: {min(rates):.1f}–{max(rates):.1f} GFLOP/s" if rates else ""))
print()
# The "% of sgemm" column only where the file has sgemm rates before the shapes (compare.sh's
# separate runs; bench/paired.py's windows have none, and --vs-sgemm lines replace it).
print("| shape | params | Overparam steps/s | PyTorch steps/s | JAX steps/s | × PyTorch | × JAX | Overparam GFLOP/s |" +
      (" % of sgemm |" if rates else ""))
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" + (" ---: |" if rates else ""))
for name, per_round in by.items():
    ours = [f["overparam"] for f in per_round.values() if "overparam" in f]
    if not ours:
        continue
    sps = lambda fw: [f[fw]["steps_per_second"] for f in per_round.values() if fw in f]
    cell = lambda fw: f"{statistics.median(sps(fw)):,.1f}" if sps(fw) else "—"
    ratios = lambda fw: [f["overparam"]["steps_per_second"] / f[fw]["steps_per_second"]
                         for f in per_round.values() if fw in f and "overparam" in f]
    ratio = lambda fw: spread(ratios(fw), lambda x: f"{x:.2f}") if ratios(fw) else "—"
    pcts = [100 * per_round[k]["overparam"]["gflops"] / g for k, g in sgemm_for.get(name, {}).items() if g]
    gs = [g for g in sgemm_for.get(name, {}).values() if g]
    pct = f"{spread(pcts, lambda x: f'{x:.0f}%')} of {statistics.median(gs):.0f}" if pcts else "—"
    gflops = statistics.median(o["gflops"] for o in ours)
    print(f"| {name} | {ours[0]['parameters']:,} | {cell('overparam')} | {cell('pytorch')} | {cell('jax')} | "
          f"{ratio('pytorch')} | {ratio('jax')} | {gflops:.1f} |" + (f" {pct} |" if rates else ""))
if vs:
    print()
    print("Same-minute sgemm ratio (`overparam bench --vs-sgemm`, median of window pairs, range in brackets): " +
          "; ".join(f"{n} {100 * r['fraction_of_sgemm']:.1f}% ({100 * r['fraction_min']:.0f}–{100 * r['fraction_max']:.0f}%) of {r['sgemm_gflops']:.0f}"
                    for n, r in vs.items()))
