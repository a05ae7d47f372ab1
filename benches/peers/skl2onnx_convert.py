"""What a Python user runs today to convert a fitted SVC with skl2onnx: one
process that imports joblib and skl2onnx, loads the model and writes the
float32 graph. The yardstick of issue 13's conversion-speed target
(`farm-bench --vs`, see BENCHMARKS.md "Default conversion against a Python
process").

    python skl2onnx_convert.py MODEL.joblib OUT.onnx N_FEATURES
"""
import sys

import joblib
import numpy as np
from skl2onnx import to_onnx
from sklearn.svm import SVC

model = joblib.load(sys.argv[1])
onx = to_onnx(model, np.zeros((1, int(sys.argv[3])), dtype=np.float32), options={SVC: {"zipmap": False}})
with open(sys.argv[2], "wb") as f:
    f.write(onx.SerializeToString())
