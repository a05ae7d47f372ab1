"""The command line from the wheel: the `svm2onnx` console script and
`python -m svm2onnx`, with the binary's flags, messages and exit codes."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

IRIS = str(REPO / "examples" / "iris_rbf.json")
SCRIPT = Path(sys.executable).with_name("svm2onnx")
COMMANDS = {"script": [str(SCRIPT)], "module": [sys.executable, "-m", "svm2onnx"]}


def run(cmd, *args):
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=300)


@pytest.fixture(params=sorted(COMMANDS))
def cli(request):
    assert SCRIPT.exists(), f"no console script at {SCRIPT}"
    return COMMANDS[request.param]


def test_convert_ok(cli, tmp_path):
    out = tmp_path / "m.onnx"
    r = run(cli, "convert", IRIS, "-o", str(out), "--dtype", "f64")
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 0
    assert "PASSED" in r.stderr and f"wrote {out}" in r.stderr


def test_validation_mismatch_exits_1_and_writes_nothing(cli, tmp_path):
    out = tmp_path / "m.onnx"
    r = run(cli, "convert", IRIS, "-o", str(out), "--tolerance", "0")
    assert r.returncode == 1, r.stderr
    assert "FAILED" in r.stderr and "was not written" in r.stderr
    assert os.listdir(tmp_path) == []


def test_bad_input_exits_2_with_one_error_line(cli, tmp_path):
    r = run(cli, "convert", str(tmp_path / "absent.pkl"), "-o", str(tmp_path / "m.onnx"))
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot read ")


def test_usage_and_help(cli):
    r = run(cli, "frobnicate")
    assert r.returncode == 2 and "unrecognized subcommand" in r.stderr
    r = run(cli, "--help")
    assert r.returncode == 0 and "Exit codes: 0 success, 1 validation mismatch, 2 bad input." in r.stdout
    r = run(cli, "--version")
    assert r.returncode == 0 and r.stdout.strip() == "svm2onnx 0.1.0"


def test_inspect_and_json_validate(cli, tmp_path):
    r = run(cli, "inspect", IRIS)
    assert r.returncode == 0 and r.stdout.startswith("estimator:")
    out = tmp_path / "m.onnx"
    assert run(cli, "convert", IRIS, "-o", str(out)).returncode == 0
    r = run(cli, "validate", str(out), "--reference", IRIS, "--json")
    assert r.returncode == 0
    import json

    assert json.loads(r.stdout)["passed"] is True


def test_main_returns_the_code():
    from svm2onnx.__main__ import main

    assert main(["inspect", IRIS]) == 0
    assert main(["inspect", "/nonexistent/model.pkl"]) == 2
