#!/bin/bash
# Compiles csrc/cuda/*.cu for the host through the emulator in include/ (no GPU, no nvcc) into
# build/cuda_emu/libemu.so: each `kernel<<<grid, block>>>(args)` is rewritten to
# `emu::Launcher(grid, block).run(kernel, args)`.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$ROOT/build/cuda_emu
mkdir -p "$OUT/src"
for f in "$ROOT"/csrc/cuda/*.cu; do
  python3 - "$f" "$OUT/src/$(basename "$f" .cu).cpp" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s = re.sub(r'([A-Za-z_][\w:]*(?:<[^<>]*>)?)<<<(.*?)>>>\(', r'emu::Launcher(\2).run(\1, ', s)
open(sys.argv[2], 'w').write(s)
PY
done
# one g++ per file, as many at once as there are cores, then one link
FLAGS=(-std=c++20 -O1 -g -fPIC -pthread -Wall -Wno-unknown-pragmas -Wno-unused-parameter -I"$HERE/include" -I"$ROOT/csrc")
rm -f "$OUT"/*.o
printf '%s\n' "$OUT"/src/*.cpp "$HERE/wrap.cpp" |
  xargs -P "$(nproc)" -I{} sh -c 'f=$0 out=$1; shift; g++ "$@" -c "$f" -o "$out/$(basename "$f" .cpp).o"' \
    {} "$OUT" "${FLAGS[@]}"
g++ -shared -pthread "$OUT"/*.o -o "$OUT/libemu.so"
echo "built $OUT/libemu.so"
