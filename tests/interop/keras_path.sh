#!/usr/bin/env bash
# Runs the scikit-learn -> Keras commands of docs/KERAS.md exactly as written.
#
#   bash tests/interop/keras_path.sh [--doc docs/KERAS.md] [--bin-dir DIR] [--venv VENV] [--workdir DIR]
#
# (--readme FILE is an old spelling of --doc FILE.)
# Extracts every ```sh block between the markers
#   <!-- keras-path:begin -->  and  <!-- keras-path:end -->
# (any other fenced block there is an error: nothing is skipped silently), writes them to
# WORKDIR/keras_path_commands.sh and runs that with `bash -euo pipefail` in an empty WORKDIR/run,
# with PATH = the svm2onnx binary's directory, then VENV/bin (python, onnx2tf), then the rest.
# VENV must hold tests/interop/requirements-tf.txt (TensorFlow, onnx2tf, tf_keras, scikit-learn).
# The doc's commands make their own checks (asserts against scikit-learn); exit status is theirs.
# Defaults: docs/KERAS.md, target/debug, target/venv-tf, target/interop/keras_path.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
doc="$root/docs/KERAS.md"
bin_dir="$root/target/debug"
venv="$root/target/venv-tf"
work="$root/target/interop/keras_path"
while [ $# -gt 0 ]; do
  case "$1" in
    --doc|--readme) doc=$2; shift 2 ;;
    --bin-dir) bin_dir=$2; shift 2 ;;
    --venv) venv=$2; shift 2 ;;
    --workdir) work=$2; shift 2 ;;
    *) echo "keras_path.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$bin_dir/svm2onnx" ] || { echo "keras_path.sh: no svm2onnx in $bin_dir" >&2; exit 2; }
[ -x "$venv/bin/python" ] || { echo "keras_path.sh: no venv at $venv" >&2; exit 2; }
[ -f "$doc" ] || { echo "keras_path.sh: no file $doc" >&2; exit 2; }
# The commands run in another directory: make relative paths absolute.
bin_dir=$(cd "$bin_dir" && pwd)
venv=$(cd "$venv" && pwd)

mkdir -p "$work"
script="$work/keras_path_commands.sh"
# Between the markers: keep the lines inside ```sh fences; fail on any other fence.
awk '
  /<!-- keras-path:begin -->/ { on = 1; seen = 1; next }
  /<!-- keras-path:end -->/   { on = 0; next }
  !on { next }
  /^```/ {
    if (!infence) {
      if ($0 != "```sh") { printf "keras_path.sh: fenced block \"%s\" between the markers is not sh\n", $0 > "/dev/stderr"; bad = 1 }
      infence = 1; blocks++; next
    }
    infence = 0; next
  }
  infence { print }
  END {
    if (!seen) { print "keras_path.sh: no <!-- keras-path:begin --> marker" > "/dev/stderr"; exit 2 }
    if (bad || infence || blocks == 0) { print "keras_path.sh: bad or no ```sh blocks between the markers" > "/dev/stderr"; exit 2 }
  }
'  "$doc" > "$script"
echo "   $(grep -c '' "$script") lines from ${doc#"$root"/} -> $script"

rm -rf "$work/run"
mkdir -p "$work/run"
cd "$work/run"
export PATH="$bin_dir:$venv/bin:$PATH"
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2} CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:--1}
t0=$SECONDS
if bash -euo pipefail "$script" > "$work/run.log" 2>&1; then
  grep -v -E '^(W0000|I0000|WARNING: All log messages|INFO: Created TensorFlow Lite|  [0-9]+: TensorSpec)' "$work/run.log" | grep -v '^\s*$' | tail -n 12 | sed 's/^/   | /'
  echo "   keras_path: PASS ($((SECONDS - t0)) s; full log $work/run.log)"
else
  rc=$?
  grep -v -E '^(W0000|I0000)' "$work/run.log" | tail -n 40 | sed 's/^/   | /'
  echo "   keras_path: FAIL (exit $rc; full log $work/run.log)"
  exit 1
fi
