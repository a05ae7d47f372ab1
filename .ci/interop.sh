#!/usr/bin/env bash
# Interop tier: everything Python lives in venvs under target/, made here.
#  a) re-make the fixtures with the current scikit-learn and rerun the fixture
#     tests on them (tract);
#  b) every fixture converted (f64, f32, one opset 13) → onnx.checker and
#     onnxruntime vs scikit-learn, plus `svm2onnx validate` (tract);
#  c) models of every estimator family through onnx2tf to Keras (.keras with
#     tf_keras; Keras 3 via the SavedModel) and float32 TFLite, compared with
#     scikit-learn (tests/interop/keras_check.py);
#  c2) every fixture written as a Keras 3 .keras file by svm2onnx itself, loaded by
#     keras.saving.load_model in fresh TensorFlow and JAX processes (default safe mode), f32
#     and f64, compared with scikit-learn (tests/interop/keras_native_check.py);
#  d) the scikit-learn -> Keras commands of docs/KERAS.md, run as written
#     (tests/interop/keras_path.sh);
#  LIBSVM: .ci/interop_libsvm.sh (svm-train/svm-predict from apt, the
#     libsvm-official wheel) re-makes the LIBSVM fixtures and tests them;
#  skl2onnx: .ci/interop_onnxml.sh re-makes the skl2onnx fixtures, checks the
#     rewrites in tract and onnxruntime against the originals; then 7 rewrites
#     go through onnx2tf (tests/interop/onnxml_tf.py);
#  Python: .ci/interop_python.sh installs the Python package (`pip install .`, dev
#     profile) into target/venv-python and runs the pytest tier tests/python/;
#  e) every check above writes rows to target/interop/results/*.json (plus the opt-in PyTorch
#     run recorded in tests/interop/recorded/, tests/interop/keras_torch.sh);
#     tests/interop/compat_table.py renders them to target/interop/COMPATIBILITY.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work="$root/target/interop"
rm -rf "$work"
mkdir -p "$work"
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3

bin="$root/target/debug/svm2onnx"
[ -x "$bin" ] || cargo build --quiet

echo "-- light venv (current scikit-learn, onnx, onnxruntime)"
light="$root/target/venv-light"
[ -x "$light/bin/python" ] || "$python" -m venv "$light"
"$light/bin/pip" install --quiet --disable-pip-version-check --upgrade scikit-learn numpy onnx onnxruntime lz4
"$light/bin/python" -c "import sklearn, onnx, onnxruntime; print('scikit-learn', sklearn.__version__, '| onnx', onnx.__version__, '| onnxruntime', onnxruntime.__version__)"

echo "-- a) fixtures re-made with the current scikit-learn"
"$light/bin/python" tests/fixtures/make_fixtures.py --out "$work/fixtures" --examples "$work/examples"
if [ -z "${INTEROP_SKIP_CARGO_TEST:-}" ]; then  # set it to rerun only the Python checks
  SVM2ONNX_FIXTURES="$work/fixtures" cargo test --quiet --test sklearn_fixtures --test graph_structure --test pickle_fixtures
fi

echo "-- b) onnx.checker + onnxruntime + tract on every fixture"
results="$work/results"
mkdir -p "$results"
t_b=$SECONDS
status=0
"$light/bin/python" tests/interop/check_onnx.py --bin "$bin" --fixtures "$work/fixtures" --workdir "$work/onnx" --tract \
  --results "$results/sklearn-onnx.json" || status=1
echo "   b) took $((SECONDS - t_b)) s"

echo "-- c) onnx2tf → Keras / SavedModel / TFLite"
t_c=$SECONDS
tf="$root/target/venv-tf"
[ -x "$tf/bin/python" ] || "$python" -m venv "$tf"
# --no-deps: the file is a complete pinned closure (see its header).
"$tf/bin/pip" install --quiet --disable-pip-version-check --no-deps -r tests/interop/requirements-tf.txt
export PATH="$tf/bin:$PATH"
echo "   venv ready after $((SECONDS - t_c)) s"
# One or more models per estimator family (results.family): SVC linear/rbf/poly/sigmoid, NuSVC,
# probability=True, SVR, NuSVR, OneClassSVM, LinearSVC, LinearSVR, CalibratedClassifierCV
# (isotonic, temperature, sigmoid), pipelines (MinMaxScaler with clipping, Normalizer,
# StandardScaler on unscaled data), SGDClassifier (modified_huber with uniform rows, log_loss),
# SGDOneClassSVM (exact zeros), SGDRegressor; one pipeline per issue-12 step (PCA whiten,
# TruncatedSVD, SimpleImputer with indicator on rows with NaN, SelectKBest, PolynomialFeatures,
# ColumnTransformer, FeatureUnion, RBFSampler → SGDClassifier, Nystroem → LinearSVC,
# SelectFromModel, VarianceThreshold, SelectPercentile, GenericUnivariateSelect).
keras_models="svc_rbf_iris_k3_ovr_str svc_rbf_unscaled_k3 svc_sigmoid_clf_k2 svc_poly3_cancer_k2_str
  svc_linear_wine_k3_ovo_int3711 pipe_minmax_clip_svc_rbf_k3 pipe_normalizer_max_svc_rbf
  pipe_standard_svc_rbf_unscaled_k3 svc_rbf_wine_k3_ovr_proba svr_rbf_diabetes oneclass_rbf
  linearsvc_ovr_k4_str linearsvr nusvr_poly2 nusvc_rbf_wine_k3_ovr cal_isotonic_nusvc_k5
  cal_temperature_linearsvc_k2_noens cal_sigmoid_pipe_standard_svc_k3
  sgd_modified_huber_k3 sgd_log_loss_k4_str_average sgd_oneclass_zero sgdregressor_squared_error
  pipe_standard_pca_whiten_svc_rbf_k3 pipe_tsvd_linearsvc_k3 pipe_imputer_median_indicator_nusvc_k3
  pipe_standard_kbest_scoretie_svc_rbf_k3 pipe_poly3_standard_svc_linear_k3 pipe_columns_svc_rbf_k3
  pipe_union_linearsvc_k3 pipe_rbfsampler_sgd_hinge_k3 pipe_nystroem_rbf_linearsvc_k2
  pipe_frommodel_l1_svc_rbf_k3 pipe_variance_linearsvc_k3 pipe_percentile_scoretie_nusvc_k3_ovo
  pipe_generic_fdr_svr_rbf"
mkdir -p "$work/keras"
for name in $keras_models; do
  fixture="$work/fixtures/$name.json"
  onnx="$work/keras/$name.onnx"
  # String labels cannot enter TensorFlow's Keras path: emit class indices.
  echo "   $name"
  if ! "$bin" convert "$fixture" -o "$onnx" --dtype f32 --label-index >/dev/null 2>"$onnx.log"; then
    echo "   FAIL: svm2onnx convert (see $onnx.log)"; status=1; continue
  fi
  "$tf/bin/python" tests/interop/keras_check.py "$onnx" --fixture "$fixture" --workdir "$work/keras/$name" \
    --results "$results/sklearn-tf.json" || status=1
done
# Limits, measured (not failures; listed apart in the table): a float64 graph, and string labels
# without --label-index.
"$bin" convert "$work/fixtures/svr_rbf_diabetes.json" -o "$work/keras/probe_f64.onnx" --dtype f64 >/dev/null 2>&1
"$bin" convert "$work/fixtures/svc_rbf_iris_k3_ovr_str.json" -o "$work/keras/probe_str.onnx" --dtype f32 >/dev/null 2>&1
for probe in f64:svr_rbf_diabetes str:svc_rbf_iris_k3_ovr_str; do
  echo "   probe ${probe%%:*}"
  "$tf/bin/python" tests/interop/keras_check.py "$work/keras/probe_${probe%%:*}.onnx" --probe \
    --fixture "$work/fixtures/${probe#*:}.json" --workdir "$work/keras/probe_${probe%%:*}" \
    --results "$results/sklearn-tf.json" $([ "${probe%%:*}" = str ] && echo --variant string-labels) ||
    echo "   (a probe: what does not run is in the table's Limits section)"
done
echo "   c) took $((SECONDS - t_c)) s"

echo "-- c2) svm2onnx's own .keras files in Keras 3: TensorFlow and JAX backends, f32 and f64"
t_c2=$SECONDS
jaxenv="$root/target/venv-jax"
[ -x "$jaxenv/bin/python" ] || "$python" -m venv "$jaxenv"
"$jaxenv/bin/pip" install --quiet --disable-pip-version-check -r tests/interop/requirements-jax.txt
"$light/bin/python" tests/interop/keras_native_check.py --bin "$bin" --fixtures "$work/fixtures" \
  --workdir "$work/keras_native" --python tensorflow="$tf/bin/python" --python jax="$jaxenv/bin/python" \
  --libsvm tests/fixtures/libsvm \
  --results "$results/sklearn-keras3.json" || status=1
echo "   c2) took $((SECONDS - t_c2)) s"

echo "-- d) docs/KERAS.md: the scikit-learn → Keras path"
t_d=$SECONDS
bash tests/interop/keras_path.sh --bin-dir "$(dirname "$bin")" --venv "$tf" --workdir "$work/keras_path" || status=1
echo "   d) took $((SECONDS - t_d)) s"

echo "-- LIBSVM models vs svm-predict and libsvm (.ci/interop_libsvm.sh)"
bash .ci/interop_libsvm.sh || status=1

echo "-- skl2onnx graphs rewritten into standard ops (.ci/interop_onnxml.sh)"
bash .ci/interop_onnxml.sh || status=1
echo "   rewritten skl2onnx graphs through onnx2tf (TFLite, tf_keras) vs onnxruntime on the originals"
"$tf/bin/python" tests/interop/onnxml_tf.py --bin "$bin" --fixtures "$work/onnxml/fixtures" \
  --workdir "$work/onnxml/tf" svc_rbf_bin_proba nusvc_rbf_k3_proba svc_sigmoid_bin svr_rbf \
  oneclass_rbf linearsvc_bin pipe_standard_svc || status=1

echo "-- Python package: pip install . and the pytest tier (.ci/interop_python.sh)"
t_py=$SECONDS
bash .ci/interop_python.sh || status=1
echo "   Python tier took $((SECONDS - t_py)) s"

echo "-- e) compatibility table (target/interop/COMPATIBILITY.md)"
"$light/bin/python" tests/interop/compat_table.py "$results" tests/interop/recorded --out "$work/COMPATIBILITY.md"
exit $status
