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
g++ -std=c++20 -O1 -g -fPIC -shared -pthread -Wall -Wno-unknown-pragmas -Wno-unused-parameter \
    -I"$HERE/include" -I"$ROOT/csrc" "$OUT"/src/*.cpp "$HERE/wrap.cpp" -o "$OUT/libemu.so"
echo "built $OUT/libemu.so"
