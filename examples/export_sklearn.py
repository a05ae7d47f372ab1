"""Write a fitted scikit-learn SVM as svm2onnx JSON ("svm2onnx.model/1").

Supported: SVC, NuSVC, SVR, NuSVR, OneClassSVM (libsvm, dual form),
LinearSVC, LinearSVR (liblinear, primal form) and SGDClassifier, SGDRegressor,
SGDOneClassSVM (SGD-trained, primal form).

The JSON is one object whose fields are scikit-learn's public fitted attributes
without the trailing underscore, holding exactly their values (public sign
convention: for two classes ``dual_coef`` and ``intercept`` are sklearn's
sign-flipped public arrays, see SVM_SEMANTICS.md 1.4).  ``gamma`` is the
resolved value ``est._gamma``, never the string 'scale' or 'auto'.
Per estimator (besides "format", "estimator", "sklearn_version",
"n_features_in", and optionally "preprocessing" and "samples"):

* SVC, NuSVC: kernel, gamma, coef0, degree, classes, n_support,
  support_vectors, dual_coef, intercept, decision_function_shape, break_ties
  (+ prob_a, prob_b when fit with probability=True).
* SVR, NuSVR: kernel, gamma, coef0, degree, support_vectors (S x d),
  dual_coef (1 x S), intercept ([1]).  OneClassSVM: the same plus offset ([1]).
* LinearSVC: classes, coef (rows x d; one row for two classes), intercept
  (one value per row, or the number 0.0 when fit_intercept=False, where
  sklearn stores a plain float), multi_class ('ovr' or 'crammer_singer').
* LinearSVR: coef (d values), intercept ([1], or the number 0.0 when
  fit_intercept=False).
* SGDClassifier: loss, classes, coef (rows x d; one row for two classes),
  intercept (one value per row).  SGDRegressor: loss, coef (d values),
  intercept ([1]).  SGDOneClassSVM: coef (d values), offset ([1]).

CalibratedClassifierCV (around an SVC, NuSVC, LinearSVC, SGDClassifier or a Pipeline
ending in one, possibly wrapped in sklearn.frozen.FrozenEstimator) is written as::

    {"format", "estimator": "CalibratedClassifierCV", "sklearn_version",
     "n_features_in", "classes", "method": "sigmoid" | "isotonic" | "temperature",
     "ensemble": bool (the resolved value of ensemble='auto'),
     "calibrated_classifiers": [{"estimator": {...}, "calibrators": [...]}, ...],
     "samples": {"X", "predict", "predict_proba"}}

one entry per fitted ``_CalibratedClassifier``.  Its "estimator" is the base
estimator exported as above (FrozenEstimator unwrapped) without "format" and
"samples".  "calibrators" has one entry per decision-function column (one for
two classes): {"a", "b"} for sigmoid (p = 1 / (1 + exp(a f + b))) or
{"x_thresholds", "y_thresholds", "x_min", "x_max"} for isotonic; with
method 'temperature' the entry has "beta" instead of "calibrators".  (With
method='temperature' and string labels scikit-learn fits the base estimators on
the encoded labels, so their "classes" are 0..k-1; column j is classes[j].)

Also accepted: a ``Pipeline`` whose last step is one of these and whose earlier
steps are StandardScaler, MinMaxScaler, MaxAbsScaler, Normalizer, PCA,
TruncatedSVD or 'passthrough'/None, and a fitted GridSearchCV/RandomizedSearchCV (its
``best_estimator_``; refit=False is refused).  The scalers are written, in
order, under "preprocessing" (SVM_SEMANTICS.md 4); every other field comes
from the final estimator.  "samples" are always recorded from the object passed
in (the whole pipeline or search, applied to raw rows): "X" and "predict"
(labels for classifiers, +1/-1 for OneClassSVM, floats for regressors), plus
"decision_function" (classifiers, OneClassSVM), "predict_proba" (models with
Platt parameters) and "score_samples" (OneClassSVM).

Library use (needs only numpy at import time)::

    from export_sklearn import export, write
    write(fitted_svc, "model.json", X_samples=X_test)   # samples are optional

Command line::

    python examples/export_sklearn.py model.joblib out.json

The command line loads the model with joblib.  Loading a pickle/joblib file runs
code chosen by whoever wrote it: only do this with files you trust.
"""

import json
import sys

import numpy as np

FORMAT = "svm2onnx.model/1"
KERNELS = ("linear", "rbf", "poly", "sigmoid", "precomputed")
CLASSIFIERS = ("SVC", "NuSVC")  # libsvm classification (pairwise)
DUAL = ("SVR", "NuSVR", "OneClassSVM")  # libsvm, one decision function
SGD = ("SGDClassifier", "SGDRegressor", "SGDOneClassSVM")  # SGD-trained, primal coef_
LINEAR = ("LinearSVC", "LinearSVR") + SGD  # primal coef_
LINEAR_CLASSIFIERS = ("LinearSVC", "SGDClassifier")
SGD_PROBA_LOSSES = ("log_loss", "modified_huber", "log")  # 'log' before sklearn 1.3
SUPPORTED = CLASSIFIERS + DUAL + LINEAR


def _dense(a):
    """Return a float64 ndarray, densifying scipy sparse matrices/arrays."""
    if hasattr(a, "toarray"):
        a = a.toarray()
    return np.asarray(a, dtype=np.float64)


def _floats(a, name):
    """Nested lists of Python floats; refuse NaN and infinities."""
    a = _dense(a)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinity; refusing to export")
    return a.tolist()


def _rows_with_missing(a):
    """samples.X: nested lists of floats, None for NaN (a missing value, for SimpleImputer);
    infinities refused."""
    a = _dense(a)
    if np.isinf(a).any():
        raise ValueError("X_samples contains infinity; refusing to export")
    return [[None if v != v else v for v in row] for row in a.tolist()]


def _label_kind(classes):
    """'int', 'str' or 'float': how the labels in classes_ are written."""
    if classes.dtype.kind in "iu":
        return "int"
    if classes.dtype.kind in "US":
        return "str"
    if classes.dtype.kind == "O" and all(isinstance(c, str) for c in classes):
        return "str"
    return "float"


def _labels(values, kind, name):
    values = np.asarray(values)
    if kind == "int":
        return [int(v) for v in values]
    if kind == "str":
        return [str(v) for v in values]
    return _floats(values.astype(np.float64), name)


SEARCHES = ("GridSearchCV", "RandomizedSearchCV")
SELECTORS = ("VarianceThreshold", "SelectKBest", "SelectPercentile", "GenericUnivariateSelect", "SelectFromModel",
             "SelectFpr", "SelectFdr", "SelectFwe")


def _is_passthrough(step):
    return step is None or (isinstance(step, str) and step == "passthrough")


def _step(step):
    """The "preprocessing" entry for one fitted scaler (SVM_SEMANTICS.md 4)."""
    name = type(step).__name__
    if not hasattr(step, "n_features_in_"):
        raise ValueError(f"pipeline step {name} is not fitted")
    if name == "StandardScaler":
        # with_mean=False still stores mean_ (unused): write null
        mean = _floats(step.mean_, "StandardScaler.mean") if step.with_mean else None
        scale = _floats(step.scale_, "StandardScaler.scale") if step.with_std else None
        return {"step": name, "mean": mean, "scale": scale}
    if name == "MinMaxScaler":
        a, b = step.feature_range
        return {"step": name, "min": _floats(step.min_, "MinMaxScaler.min"),
                "scale": _floats(step.scale_, "MinMaxScaler.scale"), "clip": bool(step.clip),
                "feature_range": [_floats(float(a), "feature_range"), _floats(float(b), "feature_range")]}
    if name == "MaxAbsScaler":
        return {"step": name, "scale": _floats(step.scale_, "MaxAbsScaler.scale"),
                "clip": bool(getattr(step, "clip", False))}
    if name == "Normalizer":
        if step.norm not in ("l1", "l2", "max"):
            raise ValueError(f"unknown Normalizer norm {step.norm!r}")
        return {"step": name, "norm": str(step.norm)}
    if name == "PCA":
        # transform: (x - mean_) @ components_.T, / max(sqrt(explained_variance_), eps) if whiten
        return {"step": name, "mean": _floats(step.mean_, "PCA.mean"),
                "components": _floats(step.components_, "PCA.components"),
                "explained_variance": (_floats(step.explained_variance_, "PCA.explained_variance")
                                       if step.whiten else None)}
    if name == "SimpleImputer":
        # transform: missing entries (isnan, or == missing_values) -> statistics_; features whose
        # statistic is NaN (never observed at fit) dropped; indicator_'s mask columns appended
        mv = step.missing_values
        if not isinstance(mv, (int, float)) or isinstance(mv, bool):
            raise ValueError(f"SimpleImputer missing_values {mv!r} is not a number or NaN")
        stats = np.asarray(step.statistics_, dtype=np.float64)
        if np.isinf(stats).any():
            raise ValueError("SimpleImputer.statistics_ contains infinity; refusing to export")
        return {"step": name, "strategy": str(step.strategy),
                "missing_values": None if mv != mv else float(mv),
                "statistics": [None if v != v else float(v) for v in stats],
                "indicator_features": ([int(f) for f in step.indicator_.features_]
                                       if step.add_indicator else None)}
    if name == "ColumnTransformer":
        # transformers_ in order (remainder last when it has columns), each on its input indices;
        # 'drop' and empty selections output nothing; 'passthrough' is stored as an identity
        # FunctionTransformer (func=None)
        if step.transformer_weights:
            raise ValueError("ColumnTransformer.transformer_weights is not supported")
        branches = []
        for tname, trans, _ in step.transformers_:
            cols = [int(c) for c in step._transformer_to_input_indices[tname]]
            if not cols or (isinstance(trans, str) and trans == "drop"):
                continue
            branches.append({"name": tname, "columns": cols, "steps": _branch_steps(trans)})
        return {"step": name, "n_features_in": int(step.n_features_in_), "branches": branches}
    if name == "FeatureUnion":
        if step.transformer_weights:
            raise ValueError("FeatureUnion.transformer_weights is not supported")
        n_in = int(step.n_features_in_)
        return {"step": name, "n_features_in": n_in,
                "branches": [{"name": tname, "columns": list(range(n_in)), "steps": _branch_steps(trans)}
                             for tname, trans in step.transformer_list
                             if not (isinstance(trans, str) and trans == "drop") and trans is not None]}
    if name == "Nystroem":
        # transform: pairwise_kernels(x, components_) @ normalization_.T, parameters resolved as
        # pairwise_kernels resolves them (gamma None -> 1/n_features, coef0 None -> 1, degree None -> 3)
        kernel = {"polynomial": "poly"}.get(step.kernel, step.kernel)
        if not isinstance(kernel, str) or kernel not in ("rbf", "poly", "sigmoid", "linear"):
            raise ValueError(f"Nystroem kernel {step.kernel!r} is not supported (rbf, poly, sigmoid, linear)")
        if step.kernel_params is not None:
            raise ValueError("Nystroem.kernel_params is not supported (set gamma, coef0 and degree)")
        n = step.components_.shape[1]
        return {"step": name, "kernel": kernel,
                "gamma": float(1.0 / n if step.gamma is None else step.gamma),
                "coef0": float(1.0 if step.coef0 is None else step.coef0),
                "degree": int(3 if step.degree is None else step.degree),
                "components": _floats(step.components_, "Nystroem.components"),
                "normalization": _floats(step.normalization_, "Nystroem.normalization")}
    if name == "RBFSampler":
        # transform: cos(x @ random_weights_ + random_offset_) * (2 / n_components) ** 0.5
        if step.random_weights_.shape[1] != step.n_components:
            raise ValueError(f"RBFSampler.n_components is {step.n_components} but random_weights_ has "
                             f"{step.random_weights_.shape[1]} columns")
        return {"step": name, "random_weights": _floats(step.random_weights_, "RBFSampler.random_weights"),
                "random_offset": _floats(step.random_offset_, "RBFSampler.random_offset")}
    if name == "PolynomialFeatures":
        # columns: itertools order of feature combinations, degree by degree (powers_)
        return {"step": name, "n_features_in": int(step.n_features_in_),
                "min_degree": int(step._min_degree), "max_degree": int(step._max_degree),
                "interaction_only": bool(step.interaction_only), "include_bias": bool(step.include_bias)}
    if name in SELECTORS:
        # transform keeps the columns of get_support() (svm2onnx re-derives it from the pickled state)
        return {"step": name, "support": [bool(v) for v in step.get_support()]}
    if name == "TruncatedSVD":
        return {"step": name, "components": _floats(step.components_, "TruncatedSVD.components")}
    raise TypeError(f"unsupported pipeline step {name}: expected StandardScaler, MinMaxScaler, "
                    "MaxAbsScaler, Normalizer, PCA, TruncatedSVD, SimpleImputer, PolynomialFeatures, RBFSampler, Nystroem, a feature selector "
                    "or 'passthrough'")


def _branch_steps(trans):
    """A ColumnTransformer/FeatureUnion branch's steps: none for 'passthrough' or an identity
    FunctionTransformer."""
    if isinstance(trans, str) and trans == "passthrough":
        return []
    if type(trans).__name__ == "FunctionTransformer" and trans.func is None:
        return []
    return _steps(trans)


def _steps(step):
    """The "preprocessing" entries of one transformer; a nested Pipeline gives its steps in order."""
    if type(step).__name__ == "Pipeline":
        return [d for _, s in step.steps if not _is_passthrough(s) for d in _steps(s)]
    return [_step(step)]


def unwrap(estimator):
    """Return (final estimator, list of preprocessing dicts) for a supported SVM,
    a Pipeline ending in one, or a fitted GridSearchCV/RandomizedSearchCV."""
    name = type(estimator).__name__
    if name in SEARCHES:
        if estimator.refit is False:
            raise ValueError(f"{name} was fit with refit=False: it has no best_estimator_")
        if not hasattr(estimator, "best_estimator_"):
            raise ValueError(f"{name} is not fitted")
        return unwrap(estimator.best_estimator_)
    if name == "Pipeline":
        steps = [s for _, s in estimator.steps]
        if not steps or _is_passthrough(steps[-1]):
            raise TypeError("the pipeline's last step must be an SVM estimator "
                            f"({', '.join(SUPPORTED)})")
        pre = [d for s in steps[:-1] if not _is_passthrough(s) for d in _steps(s)]
        final, inner = unwrap(steps[-1])
        return final, pre + inner
    return estimator, []


def _kernel_fields(est):
    """kernel, gamma, coef0, degree of a fitted libsvm estimator (SVM_SEMANTICS.md 1.2)."""
    if callable(est.kernel):
        kernel = "callable"
    elif est.kernel in KERNELS:
        kernel = est.kernel
    else:
        raise ValueError(f"unknown kernel {est.kernel!r}")
    return {
        "kernel": kernel,
        "gamma": _floats(float(est._gamma), "gamma"),
        "coef0": _floats(float(est.coef0), "coef0"),
        "degree": int(est.degree),
    }


def _intercept(value, name):
    """liblinear's intercept_: an array, or the plain float 0.0 when fit_intercept=False."""
    if isinstance(value, np.ndarray):
        return _floats(value, name)
    return _floats(float(value), name)


def export(estimator, X_samples=None):
    """Return the svm2onnx JSON object (a dict) for a fitted SVC, NuSVC, SVR,
    NuSVR, OneClassSVM, LinearSVC, LinearSVR, SGDClassifier, SGDRegressor or
    SGDOneClassSVM, a Pipeline ending in one, or a fitted
    GridSearchCV/RandomizedSearchCV.

    With ``X_samples`` the dict also records sklearn's own outputs for those
    rows under "samples" (predict; decision_function for classifiers and
    OneClassSVM; predict_proba when the model has Platt parameters or is an
    SGDClassifier with loss log_loss or modified_huber; score_samples for
    OneClassSVM and SGDOneClassSVM), for tests to compare against.  They are
    taken from ``estimator`` itself, i.e. from the whole pipeline or search.
    """
    import sklearn  # the estimator came from sklearn, so it is importable

    if type(_unwrap_search(estimator)).__name__ == "CalibratedClassifierCV":
        return _export_calibrated(estimator, X_samples)
    est, preprocessing = unwrap(estimator)
    is_wrapped = est is not estimator
    name = type(est).__name__
    if name not in SUPPORTED:
        raise TypeError(f"expected a fitted {', '.join(SUPPORTED)} (alone, last in a Pipeline, "
                        f"or in a GridSearchCV/RandomizedSearchCV), got {name}")
    if not hasattr(est, "coef_" if name in LINEAR else "support_vectors_"):
        raise ValueError(f"{name} is not fitted")

    out = {
        "format": FORMAT,
        "estimator": name,
        "sklearn_version": sklearn.__version__,
        # a callable kernel skips input validation, so only shape_fit_ knows d
        "n_features_in": int(est.n_features_in_ if name in LINEAR
                             else getattr(est, "n_features_in_", est.shape_fit_[1])),
    }
    kind = None  # how predict's labels are written; None: floats (regressors)
    has_proba = False
    if name in CLASSIFIERS:
        out.update(_kernel_fields(est))
        kind = _label_kind(est.classes_)
        out.update({
            "classes": _labels(est.classes_, kind, "classes"),
            "n_support": [int(n) for n in est.n_support_],
            "support_vectors": _floats(est.support_vectors_, "support_vectors"),
            "dual_coef": _floats(est.dual_coef_, "dual_coef"),
            "intercept": _floats(est.intercept_, "intercept"),
            "decision_function_shape": str(est.decision_function_shape),
            "break_ties": bool(est.break_ties),
        })
        # probA_/probB_ are deprecated properties in sklearn 1.9; prefer the private arrays.
        prob_a = getattr(est, "_probA", None)
        prob_b = getattr(est, "_probB", None)
        if prob_a is None:  # older sklearn versions
            prob_a, prob_b = getattr(est, "probA_", ()), getattr(est, "probB_", ())
        has_proba = np.size(prob_a) > 0 and np.size(prob_b) > 0
        if has_proba:
            out["prob_a"] = _floats(prob_a, "prob_a")
            out["prob_b"] = _floats(prob_b, "prob_b")
    elif name in DUAL:
        # one decision function; public arrays = libsvm's (no sign flip), SVM_SEMANTICS.md 2
        out.update(_kernel_fields(est))
        out.update({
            "support_vectors": _floats(est.support_vectors_, "support_vectors"),
            "dual_coef": _floats(est.dual_coef_, "dual_coef"),
            "intercept": _floats(est.intercept_, "intercept"),
        })
        if name == "OneClassSVM":
            kind = "int"  # predict gives +1 / -1
            out["offset"] = _floats(np.reshape(est.offset_, -1), "offset")
    elif name == "LinearSVC":
        kind = _label_kind(est.classes_)
        out.update({
            "classes": _labels(est.classes_, kind, "classes"),
            "coef": _floats(est.coef_, "coef"),
            "intercept": _intercept(est.intercept_, "intercept"),
            "multi_class": str(est.multi_class),
        })
    elif name == "SGDClassifier":
        kind = _label_kind(est.classes_)
        out.update({
            "loss": str(est.loss),
            "classes": _labels(est.classes_, kind, "classes"),
            "coef": _floats(est.coef_, "coef"),
            "intercept": _floats(est.intercept_, "intercept"),
        })
        has_proba = est.loss in SGD_PROBA_LOSSES
    elif name == "SGDRegressor":
        out.update({
            "loss": str(est.loss),
            "coef": _floats(est.coef_, "coef"),
            "intercept": _floats(est.intercept_, "intercept"),
        })
    elif name == "SGDOneClassSVM":
        kind = "int"  # predict gives +1 / -1
        out.update({
            "coef": _floats(est.coef_, "coef"),
            "offset": _floats(np.reshape(est.offset_, -1), "offset"),
        })
    else:  # LinearSVR
        out.update({
            "coef": _floats(est.coef_, "coef"),
            "intercept": _intercept(est.intercept_, "intercept"),
        })
    if is_wrapped:
        n_in = out["n_features_in"]  # the width each step outputs, walking back from the estimator
        for step in reversed(preprocessing):
            if "support" in step:  # a selector: len(support) inputs, sum(support) outputs
                if sum(step["support"]) != n_in:
                    raise ValueError(f"{step['step']} keeps {sum(step['support'])} features, "
                                     f"the next step expects {n_in}")
                n_in = len(step["support"])
            if step["step"] == "SimpleImputer":
                n_in = len(step["statistics"])
                continue
            if step["step"] in ("ColumnTransformer", "FeatureUnion"):
                n_in = step["n_features_in"]
                continue
            if step["step"] == "PolynomialFeatures":
                n_in = step["n_features_in"]
                continue
            if step["step"] == "Nystroem":  # components: n_components rows of n_in values
                if len(step["components"]) != n_in:
                    raise ValueError(f"Nystroem has {len(step['components'])} components, "
                                     f"the next step expects {n_in} features")
                n_in = len(step["components"][0])
                continue
            if step["step"] == "RBFSampler":  # random_weights: n_in rows of n_components values
                if len(step["random_weights"][0]) != n_in:
                    raise ValueError(f"RBFSampler has {len(step['random_weights'][0])} components, "
                                     f"the next step expects {n_in} features")
                n_in = len(step["random_weights"])
                continue
            if "components" in step:  # PCA / TruncatedSVD: n_components rows of n_in values
                if len(step["components"]) != n_in:
                    raise ValueError(f"{step['step']} has {len(step['components'])} components, "
                                     f"the next step expects {n_in} features")
                n_in = len(step["components"][0])
            for key in ("mean", "scale", "min"):
                if step.get(key) is not None and len(step[key]) != n_in:
                    raise ValueError(f"{step['step']}.{key} has {len(step[key])} features, "
                                     f"the next step expects {n_in}")
        out["preprocessing"] = preprocessing

    if X_samples is not None:
        X = _rows_with_missing(X_samples)
        whole = estimator  # the pipeline/search applies its own preprocessing
        predict = whole.predict(X_samples)
        samples = {
            "X": X,
            "predict": _floats(predict, "predict") if kind is None else _labels(predict, kind, "predict"),
        }
        if name in CLASSIFIERS or name in ("OneClassSVM", "SGDOneClassSVM") + LINEAR_CLASSIFIERS:
            samples["decision_function"] = _floats(whole.decision_function(X_samples), "decision_function")
        if has_proba:
            samples["predict_proba"] = _floats(whole.predict_proba(X_samples), "predict_proba")
        if name in ("OneClassSVM", "SGDOneClassSVM"):
            samples["score_samples"] = _floats(whole.score_samples(X_samples), "score_samples")
        out["samples"] = samples
    return out


def _unwrap_search(estimator):
    """best_estimator_ of a fitted GridSearchCV/RandomizedSearchCV (repeatedly); else itself."""
    while type(estimator).__name__ in SEARCHES:
        if estimator.refit is False or not hasattr(estimator, "best_estimator_"):
            return estimator  # unwrap() reports it
        estimator = estimator.best_estimator_
    return estimator


def _unfreeze(estimator):
    """The estimator inside a sklearn.frozen.FrozenEstimator (repeatedly); else itself."""
    while type(estimator).__name__ == "FrozenEstimator":
        estimator = estimator.estimator
    return estimator


def _number(value, name):
    """A Python float from a number, numpy scalar or one-element array; refuse NaN/inf."""
    a = _dense(value).reshape(-1)
    if a.size != 1:
        raise ValueError(f"{name} has {a.size} values, expected 1")
    return _floats(a[0], name)


def _calibrator(cal, method, name):
    """One calibrator entry: sigmoid {a, b} or isotonic {x_thresholds, y_thresholds, x_min, x_max}."""
    kind = type(cal).__name__
    if method == "sigmoid":
        if kind != "_SigmoidCalibration":
            raise TypeError(f"{name}: method 'sigmoid' with a {kind} calibrator")
        return {"a": _number(cal.a_, f"{name}.a"), "b": _number(cal.b_, f"{name}.b")}
    if kind != "IsotonicRegression":
        raise TypeError(f"{name}: method 'isotonic' with a {kind} calibrator")
    if cal.out_of_bounds != "clip":
        raise ValueError(f"{name}: IsotonicRegression(out_of_bounds={cal.out_of_bounds!r}), expected 'clip'")
    x = _floats(np.reshape(cal.X_thresholds_, -1), f"{name}.x_thresholds")
    y = _floats(np.reshape(cal.y_thresholds_, -1), f"{name}.y_thresholds")
    if len(x) != len(y) or not x:
        raise ValueError(f"{name}: {len(x)} x_thresholds and {len(y)} y_thresholds")
    return {"x_thresholds": x, "y_thresholds": y,
            "x_min": _number(cal.X_min_, f"{name}.x_min"), "x_max": _number(cal.X_max_, f"{name}.x_max")}


def _export_calibrated(estimator, X_samples):
    """The JSON object of a fitted CalibratedClassifierCV (alone or as a search's best_estimator_)."""
    import sklearn

    cal = _unwrap_search(estimator)
    if not hasattr(cal, "calibrated_classifiers_"):
        raise ValueError("CalibratedClassifierCV is not fitted")
    method = str(cal.method)
    if method not in ("sigmoid", "isotonic", "temperature"):
        raise ValueError(f"unknown calibration method {method!r}")
    ensemble = cal.ensemble
    if isinstance(ensemble, str):  # 'auto', resolved as CalibratedClassifierCV.fit does
        ensemble = type(cal.estimator).__name__ != "FrozenEstimator"
    kind = _label_kind(cal.classes_)
    classes = _labels(cal.classes_, kind, "classes")
    k = len(classes)
    members = []
    for i, member in enumerate(cal.calibrated_classifiers_):
        at = f"calibrated_classifiers[{i}]"
        if str(member.method) != method:
            raise ValueError(f"{at}: method {member.method!r}, the CalibratedClassifierCV says {method!r}")
        if _labels(member.classes, kind, f"{at}.classes") != classes:
            raise ValueError(f"{at}: classes differ from the CalibratedClassifierCV's")
        base = _unfreeze(member.estimator)
        final, _ = unwrap(base)
        if type(final).__name__ not in ("SVC", "NuSVC", "LinearSVC", "SGDClassifier"):
            raise TypeError(f"{at}: base estimator {type(final).__name__} is not an SVC, NuSVC, LinearSVC "
                            "or SGDClassifier")
        base_classes = np.asarray(final.classes_)
        same_classes = _label_kind(base_classes) == kind and _labels(base_classes, kind, "classes") == classes
        # method='temperature' fits the base estimators on label-encoded y when the labels are
        # strings: their classes_ are then 0..k-1, column j still belongs to classes[j]
        encoded = (method == "temperature" and base_classes.dtype.kind in "iu"
                   and base_classes.tolist() == list(range(k)))
        if not (same_classes or encoded):
            # e.g. a CV fold without some class: its calibrators cover only the classes it saw
            raise ValueError(f"{at}: the base estimator's classes_ {base_classes.tolist()} differ from "
                             f"the CalibratedClassifierCV's {classes}")
        nested = export(base)
        del nested["format"]
        entry = {"estimator": nested}
        if method == "temperature":
            if len(member.calibrators) != 1 or type(member.calibrators[0]).__name__ != "_TemperatureScaling":
                raise TypeError(f"{at}: method 'temperature' needs one _TemperatureScaling calibrator")
            entry["beta"] = _number(member.calibrators[0].beta_, f"{at}.beta")
        else:
            want = 1 if k == 2 else k
            if len(member.calibrators) != want:
                raise ValueError(f"{at}: {len(member.calibrators)} calibrators for {k} classes, expected {want}")
            entry["calibrators"] = [_calibrator(c, method, f"{at}.calibrators[{j}]")
                                    for j, c in enumerate(member.calibrators)]
        members.append(entry)
    out = {
        "format": FORMAT,
        "estimator": "CalibratedClassifierCV",
        "sklearn_version": sklearn.__version__,
        "n_features_in": int(cal.n_features_in_),
        "classes": classes,
        "method": method,
        "ensemble": bool(ensemble),
        "calibrated_classifiers": members,
    }
    if X_samples is not None:
        out["samples"] = {
            "X": _floats(X_samples, "X_samples"),
            "predict": _labels(estimator.predict(X_samples), kind, "predict"),
            "predict_proba": _floats(estimator.predict_proba(X_samples), "predict_proba"),
        }
    return out


def dumps(obj):
    """Serialise with one top-level field per line; floats round-trip (repr)."""
    lines = [
        json.dumps(k) + ": " + json.dumps(v, separators=(",", ":"), allow_nan=False)
        for k, v in obj.items()
    ]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write(estimator, path, X_samples=None):
    """Export ``estimator`` (see :func:`export`) and write the JSON to ``path``."""
    text = dumps(export(estimator, X_samples))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv):
    if len(argv) != 3:
        print(f"usage: {argv[0]} MODEL.joblib OUT.json   (loads a pickle: trusted files only)",
              file=sys.stderr)
        return 2
    import joblib  # only the CLI needs it

    write(joblib.load(argv[1]), argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
