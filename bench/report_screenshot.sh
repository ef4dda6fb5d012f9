#!/usr/bin/env bash
# Renders a reproduction report in headless Chromium (Debian's chromium) to PNG pages of
# 1280×1800, for looking at every figure as a reader's browser shows it.
# Usage: bench/report_screenshot.sh [REPORT.html] [OUT_DIR]   (default out/reproduce/report.html)
set -euo pipefail
report=$(realpath "${1:-out/reproduce/report.html}")
out=${2:-$(dirname "$report")/screenshot}
mkdir -p "$out"
command -v chromium >/dev/null || { echo "needs chromium: apt-get install chromium" >&2; exit 1; }
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,12000 \
    --screenshot="$out/full.png" "file://$report" 2>/dev/null
python3 - "$out" <<'PY'
import struct, sys, zlib
# Cut the tall screenshot into pages without an imaging library: decode the PNG rows (8-bit RGB
# or RGBA, as Chromium writes), drop the blank bottom, write each 1800-row slice as its own PNG.
out = sys.argv[1]
data = open(f"{out}/full.png", "rb").read()
pos, idat, (w, h, depth, ctype) = 8, b"", (0, 0, 0, 0)
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8]); body = data[pos + 8:pos + 8 + n]; pos += 12 + n
    if kind == b"IHDR": w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT": idat += body
assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
bpp = 3 if ctype == 2 else 4
raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0; b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line)); prev = line
last = max((y for y in range(h) if min(rows[y][::bpp * 8]) < 250), default=h - 1)
def chunk(kind, body): return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
pages = 0
for top in range(0, last + 1, 1800):
    part = rows[top:min(top + 1800, last + 20)]
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, len(part), 8, ctype, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"".join(b"\0" + r for r in part))) + chunk(b"IEND", b"")
    open(f"{out}/page{pages + 1}.png", "wb").write(png); pages += 1
print(f"{pages} pages in {out}/page*.png")
PY
