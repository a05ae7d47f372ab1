"""Writes a ~50 MB joblib file of a real SVC for the loading benchmark.

    python benches/make_big_joblib.py OUT.joblib [--mb 50]

An SVC is fitted on a small random problem, then its fitted arrays are
replaced by a consistent binary model of the requested size (scikit-learn's
predict reads only support_vectors_, _dual_coef_, _intercept_, _n_support
and _gamma), so no long training run is needed.
"""
import argparse
import warnings

import joblib
import numpy as np
from sklearn.svm import SVC

warnings.filterwarnings("ignore")
ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--mb", type=float, default=50.0)
ap.add_argument("--features", type=int, default=300)
a = ap.parse_args()

rng = np.random.default_rng(0)
d = a.features
s = int(a.mb * 1e6 / (8 * (d + 1)))
model = SVC(kernel="rbf", gamma=1.0 / d).fit(rng.normal(size=(40, d)), np.arange(40) % 2)
half = s // 2
svs = rng.normal(size=(s, d))
coef = np.concatenate([-rng.random(half), rng.random(s - half)])[None, :]
model.support_vectors_ = svs
model.support_ = np.arange(s, dtype=np.int32)
model._n_support = np.array([half, s - half], dtype=np.int32)
model._dual_coef_ = -coef
model.dual_coef_ = coef
model.decision_function(svs[:2])  # sklearn accepts the replaced arrays
joblib.dump(model, a.out)
print(f"{a.out}: {s} support vectors x {d} features")
