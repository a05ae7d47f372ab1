#!/usr/bin/env bash
# On demand (not in CI): build the abi3 manylinux2014 release wheel with zig,
# install it into a clean venv and run the pytest tier there.
#
#   bash python/build_wheel.sh [OUT_DIR]     (default target/wheels)
#
# A release build of tract takes 5 to 19 minutes on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-$root/target/wheels}
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3

build="$root/target/venv-wheel-build"
[ -x "$build/bin/python" ] || "$python" -m venv "$build"
# The maturin that pyproject.toml pins; zig links against glibc 2.17's symbols.
maturin_pin=$(sed -n 's/^requires = \["maturin==\([0-9.]*\)"\]/\1/p' pyproject.toml)
"$build/bin/pip" install --quiet --disable-pip-version-check "maturin==$maturin_pin" ziglang

# maturin finds zig through `python3 -m ziglang`: the build venv first on PATH.
export PATH="$build/bin:$PATH"
t0=$SECONDS
rm -rf "$out"
"$build/bin/maturin" build --release --zig --compatibility manylinux2014 \
  --interpreter "$build/bin/python" --out "$out"
echo "-- wheel built in $((SECONDS - t0)) s"
wheel=$(ls "$out"/svm2onnx-*-cp39-abi3-manylinux*2014*_x86_64*.whl)
echo "   $wheel"

# The highest glibc symbol version the extension needs (manylinux2014: 2.17).
"$build/bin/python" - "$wheel" <<'PY'
import re, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    so = next(n for n in z.namelist() if n.endswith(".so"))
    data = z.read(so)
versions = sorted({tuple(map(int, v.split(b"."))) for v in re.findall(rb"GLIBC_([0-9]+(?:\.[0-9]+)+)", data)})
print(f"   {so}: highest GLIBC_ symbol version {'.'.join(map(str, versions[-1]))}")
if versions[-1] > (2, 17):
    sys.exit("   the extension needs a newer glibc than manylinux2014 allows")
PY

clean="$root/target/venv-wheel-test"
rm -rf "$clean"
"$python" -m venv "$clean"
"$clean/bin/pip" install --quiet --disable-pip-version-check "$wheel" pytest numpy scikit-learn onnxruntime joblib
t1=$SECONDS
(cd "$root/tests/python" && "$clean/bin/python" -m pytest -q -p no:cacheprovider .)
echo "-- pytest tier on the release wheel took $((SECONDS - t1)) s"
