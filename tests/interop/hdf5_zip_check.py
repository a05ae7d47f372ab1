#!/usr/bin/env python3
"""Check svm2onnx's HDF5 and zip writers (src/keras/) with h5py, zipfile and Keras 3.

    python tests/interop/hdf5_zip_check.py DIR [--keras] [--no-cargo]

Runs the ignored Rust tests that write samples into DIR (`cargo test --lib keras:: --
--ignored` with SVM2ONNX_H5_OUT=DIR; --no-cargo uses the files already there), then:

  sample.h5         h5py: the exact group tree (nested, empty groups, 60 children in one
                    group, a 300-byte and a non-ASCII name) and every dataset's shape, dtype
                    and values, bit for bit (f32 and f64; shapes [], [0], [5], [3, 4],
                    [2, 3, 4], [4, 0, 2]; NaN, infinities, -0.0, subnormals; 300 x 8458 f64).
                    libhdf5 refuses it with a checksum bit flipped or a byte cut off.
                    Also `h5dump -H` and `h5ls -r` when those tools are installed.
  sample.zip        zipfile: testzip(), names in order, ZIP_STORED, 1980-01-01 timestamps,
                    contents; h5py reads the .h5 entry from memory as Keras does.
  sample_zip64.zip  the same with ZIP64 records forced (as a > 4 GiB archive has them).
  many_entries.zip  70,000 entries (ZIP64 end record for the count).

--keras: first saves a small Keras model (Input float64 (3,), two EinsumDense
"ab,bc->ac" layers) as DIR/m.keras and copies its config.json / metadata.json to
DIR/keras_config.json / keras_metadata.json; the Rust test then writes DIR/ours.keras
(those two files and a model.weights.h5 from the Rust writer); this loads it with
`keras.saving.load_model` and checks both kernels equal the values the Rust test wrote,
bit for bit, and that predict() gives x @ k1 @ k2.

Needs numpy and h5py (and keras with a backend for --keras). Exit 0 when all pass.
"""
import argparse
import io
import os
import shutil
import subprocess
import sys
import warnings
import zipfile

import h5py
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FAILURES = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        FAILURES.append(what)


def counting(dtype, shape):
    """Mirror of `counting` in src/keras/hdf5/tests.rs: i * 0.1 - 7.0, stored as dtype."""
    n = int(np.prod(shape, dtype=np.int64))
    return (np.arange(n, dtype=np.float64) * 0.1 - 7.0).astype(dtype).reshape(shape)


def expected_tree():
    """Path -> None (group) or expected array: mirror of `sample_tree(true)`."""
    tree = {}

    def group(path):
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            tree.setdefault("/".join(parts[:i]), None)

    special = np.array(
        [np.nan, np.inf, -np.inf, -0.0, 5e-324, 1e-40, np.finfo(np.float64).max, 1.0 / 3.0]
    )
    for dtype, tag in [(np.float32, "f32"), (np.float64, "f64")]:
        group(f"shapes/{tag}")
        for shape in [(), (0,), (5,), (3, 4), (2, 3, 4), (4, 0, 2)]:
            name = "[" + ", ".join(map(str, shape)) + "]"
            tree[f"shapes/{tag}/{name}"] = counting(dtype, shape)
        group("special")
        with np.errstate(over="ignore", under="ignore"):
            tree[f"special/{tag}"] = special.astype(dtype)
    group("many")
    for i in range(60):
        name = f"many/child_{i:02}"
        if i % 3 == 0:
            tree[name] = None
        else:
            tree[name] = counting(np.float32 if i % 3 == 1 else np.float64, (i,))
    group("a/b/c/empty")
    tree["a/b/c/d"] = counting(np.float64, (2, 2))
    group("n" * 300)
    tree["n" * 300 + "/x"] = counting(np.float32, (1,))
    group("ünïcode")
    tree["ünïcode/x"] = counting(np.float64, (1,))
    group("layers/einsum_dense/vars")
    tree["layers/einsum_dense/vars/0"] = counting(np.float64, (300, 8458))
    return tree


def same_bits(a, b):
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    view = {4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    return np.array_equal(a.view(view), b.view(view))


def check_h5_file(f, label):
    expected = expected_tree()
    found = {}
    f.visititems(lambda name, obj: found.__setitem__(name, obj))
    check(sorted(found) == sorted(expected),
          f"{label}: group tree ({len(expected)} objects)"
          + ("" if sorted(found) == sorted(expected) else
             f"; missing {sorted(set(expected) - set(found))[:5]},"
             f" extra {sorted(set(found) - set(expected))[:5]}"))
    bad = []
    datasets = 0
    for path, want in expected.items():
        obj = found.get(path)
        if want is None:
            if not isinstance(obj, h5py.Group):
                bad.append(f"{path}: not a group")
            continue
        datasets += 1
        if not isinstance(obj, h5py.Dataset):
            bad.append(f"{path}: not a dataset")
            continue
        got = obj[()]
        got = np.asarray(got)
        if obj.dtype != want.dtype.newbyteorder("<") or obj.shape != want.shape:
            bad.append(f"{path}: {obj.dtype} {obj.shape}, want {want.dtype} {want.shape}")
        elif obj.chunks is not None or obj.compression is not None:
            bad.append(f"{path}: chunked or compressed")
        elif not same_bits(got, want):
            bad.append(f"{path}: values differ")
    check(not bad, f"{label}: {datasets} datasets: shape, dtype, values bit for bit"
          + ("" if not bad else "; " + "; ".join(bad[:5])))
    check(len(f["many"]) == 60, f"{label}: /many has 60 children")


def flip(data, at):
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


def check_h5(directory):
    path = os.path.join(directory, "sample.h5")
    with h5py.File(path, "r") as f:
        check_h5_file(f, "sample.h5")
    # Negative controls: libhdf5 really verifies what the writer computes.
    with open(path, "rb") as f:
        data = f.read()
    for what, damaged in [
        ("a flipped bit in the superblock checksum", flip(data, 46)),
        ("a flipped bit in the root group's header", flip(data, 48 + 12)),
        ("one byte cut off the end", data[:-1]),
    ]:
        try:
            with h5py.File(io.BytesIO(damaged), "r") as f:
                f.visit(lambda name: None)
            refused = False
        except (OSError, RuntimeError):
            refused = True
        check(refused, f"sample.h5 with {what}: refused by libhdf5")
    for tool, args in [("h5dump", ["-H"]), ("h5ls", ["-r"])]:
        exe = shutil.which(tool)
        if exe is None:
            print(f"skip  {tool} (not installed)")
            continue
        run = subprocess.run([exe, *args, path], capture_output=True, text=True)
        check(run.returncode == 0 and "error" not in run.stderr.lower(),
              f"{tool} {' '.join(args)} sample.h5: exit {run.returncode}, "
              f"{len(run.stdout.splitlines())} lines" + (f"; {run.stderr[:300]}" if run.stderr else ""))


def check_zip_file(path, want_entries, zip64):
    label = os.path.basename(path)
    with open(path, "rb") as raw:
        data = raw.read()
    check((b"PK\x06\x06" in data) == zip64, f"{label}: ZIP64 end record {'present' if zip64 else 'absent'}")
    with zipfile.ZipFile(path) as zf:
        check(zf.testzip() is None, f"{label}: testzip() (CRC-32 of every entry)")
        infos = zf.infolist()
        check([i.filename for i in infos] == [n for n, _ in want_entries],
              f"{label}: {len(want_entries)} names in order")
        check(all(i.compress_type == zipfile.ZIP_STORED for i in infos), f"{label}: all ZIP_STORED")
        check(all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos), f"{label}: 1980-01-01 00:00")
        check(all(zf.read(n) == d for n, d in want_entries), f"{label}: contents")


def check_zips(directory):
    with open(os.path.join(directory, "sample.h5"), "rb") as f:
        h5 = f.read()
    entries = [("metadata.json", b'{"keras_version": "3.15.1"}'), ("config.json", b"{}"),
               ("model.weights.h5", h5)]
    check_zip_file(os.path.join(directory, "sample.zip"), entries, zip64=False)
    with zipfile.ZipFile(os.path.join(directory, "sample.zip")) as zf:
        # How Keras reads the weights: the entry into memory, then h5py.
        with h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as f:
            check_h5_file(f, "sample.zip!model.weights.h5 (BytesIO)")
    small = [("metadata.json", b'{"keras_version": "3.15.1"}'), ("config.json", b"{}"),
             ("model.weights.h5", bytes(i % 256 for i in range(1000))), ("ünïcode/empty", b"")]
    check_zip_file(os.path.join(directory, "sample_zip64.zip"), small, zip64=True)
    many = [(str(i), str(i).encode()) for i in range(70_000)]
    check_zip_file(os.path.join(directory, "many_entries.zip"), many, zip64=True)


def keras_model():
    import keras
    x = keras.Input((3,), dtype="float64")
    y = keras.layers.EinsumDense("ab,bc->ac", output_shape=(2,), dtype="float64")(x)
    z = keras.layers.EinsumDense("ab,bc->ac", output_shape=(2,), dtype="float64")(y)
    return keras.Model(x, z)


def keras_prepare(directory):
    path = os.path.join(directory, "m.keras")
    keras_model().save(path)
    with zipfile.ZipFile(path) as zf:
        for name in ["config.json", "metadata.json"]:
            with open(os.path.join(directory, "keras_" + name), "wb") as f:
                f.write(zf.read(name))
    print(f"saved {path}; copied its config.json and metadata.json")


def keras_check(directory):
    import keras
    path = os.path.join(directory, "ours.keras")
    with zipfile.ZipFile(path) as zf:
        check(zf.testzip() is None and [i.compress_type for i in zf.infolist()] == [0, 0, 0],
              "ours.keras: zip valid, stored")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = keras.saving.load_model(path)
    for w in caught:
        print(f"      warning while loading: {w.message}")
    check(not any("load" in str(w.message).lower() or "skip" in str(w.message).lower() for w in caught),
          "ours.keras: no warning about skipped or mismatched variables")
    layers = {layer.name: layer for layer in model.layers}
    k1 = np.asarray(layers["einsum_dense"].kernel.numpy())
    k2 = np.asarray(layers["einsum_dense_1"].kernel.numpy())
    want1 = counting(np.float64, (3, 2))
    want2 = ((np.arange(4, dtype=np.float64) + 1) / 3.0).reshape(2, 2)
    check(same_bits(k1, want1), f"keras: einsum_dense kernel == i*0.1-7 bit for bit {k1.tolist()}")
    check(same_bits(k2, want2), f"keras: einsum_dense_1 kernel == (i+1)/3 bit for bit {k2.tolist()}")
    x = np.array([[1.0, 2.0, 3.0], [-0.5, 0.25, 4.0]])
    got = np.asarray(model.predict(x, verbose=0))
    want = x @ want1 @ want2
    check(got.dtype == np.float64 and np.allclose(got, want, rtol=1e-14, atol=0),
          f"keras: predict == x @ k1 @ k2 (max diff {np.max(np.abs(got - want)):.3g})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir")
    parser.add_argument("--keras", action="store_true", help="also the Keras round trip")
    parser.add_argument("--no-cargo", action="store_true", help="use the files already in DIR")
    args = parser.parse_args()
    directory = os.path.abspath(args.dir)
    os.makedirs(directory, exist_ok=True)
    if args.keras:
        keras_prepare(directory)
    if not args.no_cargo:
        env = dict(os.environ, SVM2ONNX_H5_OUT=directory)
        subprocess.run(["cargo", "test", "--lib", "keras::", "--", "--ignored"],
                       cwd=REPO, env=env, check=True)
    check_h5(directory)
    check_zips(directory)
    if args.keras:
        keras_check(directory)
    print(f"hdf5_zip_check: {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
