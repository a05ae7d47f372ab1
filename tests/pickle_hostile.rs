//! Hostile and malformed pickle/joblib input: nothing is executed, nothing
//! panics, and no allocation follows a size the file merely declares. A
//! name outside the allowlist (`os.system`, `builtins.eval`) is an inert
//! placeholder: refused, naming it, where the converted model needs it, and
//! never imported or called anywhere else; malformed streams are refused
//! with an error naming the problem.

mod common;

use std::process::Command;
use svm2onnx::load::pickle::vm::{unpickle, unpickle_with_buffers, Limits};
use svm2onnx::{load_bytes, LoadError};

fn refused(bytes: &[u8]) -> String {
    match load_bytes(bytes) {
        Ok(_) => panic!("accepted hostile input {bytes:02x?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn reduce_of_os_system_is_an_inert_placeholder_named_with_its_offset() {
    // cos\nsystem\n (ls,) REDUCE — protocol 2, GLOBAL at offset 2. Nothing
    // is imported or called: the root is a placeholder, refused where the
    // model is needed, naming the global and where the stream named it.
    let p2 = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.";
    let e = refused(p2);
    assert!(
        e.contains("is os.system, read as an inert placeholder at byte offset 2, which svm2onnx cannot convert"),
        "{e}"
    );
    // builtins.eval through STACK_GLOBAL (protocol 4), at offset 18.
    let p4 = b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93\x8c\x041+1;\x85R.";
    let e = refused(p4);
    assert!(
        e.contains("builtins.eval, read as an inert placeholder at byte offset 18"),
        "{e}"
    );
    // posix.system, subprocess.Popen, an unsupported estimator.
    assert!(refused(b"\x80\x02cposix\nsystem\n)R.").contains("posix.system, read as an inert"));
    assert!(
        refused(b"\x80\x02csubprocess\nPopen\n)R.").contains("subprocess.Popen, read as an inert")
    );
    let e = refused(b"\x80\x02csklearn.linear_model._logistic\nLogisticRegression\n)\x81}b.");
    assert!(
        e.contains("LogisticRegression") && e.contains("supported: SVC, NuSVC"),
        "{e}"
    );
}

/// A protocol-2 Pipeline whose steps are `(name, module.Class())` objects
/// with empty state (a bare string when the module is empty), by hand.
fn pipeline_pickle(steps: &[(&str, &str, &str)]) -> Vec<u8> {
    fn text(out: &mut Vec<u8>, s: &str) {
        out.push(b'X');
        out.extend((s.len() as u32).to_le_bytes());
        out.extend(s.as_bytes());
    }
    let mut p = b"\x80\x02csklearn.pipeline\nPipeline\n)\x81}".to_vec();
    text(&mut p, "steps");
    p.extend(b"](");
    for (name, module, class) in steps {
        text(&mut p, name);
        if module.is_empty() {
            text(&mut p, class);
        } else {
            p.extend(format!("c{module}\n{class}\n").as_bytes());
            p.extend(b")\x81}b");
        }
        p.push(0x86);
    }
    p.extend(b"esb.");
    p
}

#[test]
fn an_unsupported_step_is_named_by_position_and_class_with_what_to_do() {
    let svc = ("svc", "sklearn.svm._classes", "SVC");
    let ohe = ("enc", "sklearn.preprocessing._encoders", "OneHotEncoder");
    let e = refused(&pipeline_pickle(&[ohe, svc]));
    assert!(
        e.starts_with("field `Pipeline.steps[0].OneHotEncoder`: unsupported step sklearn.preprocessing._encoders.OneHotEncoder, read as an inert placeholder at byte offset 52 (supported: SVC, NuSVC")
            && e.ends_with("; apply it before svm2onnx's graph and feed the transformed features, or replace it with a supported step"),
        "{e}"
    );
    // A custom class and a function transformer, after a 'passthrough'.
    let scaler = ("sc", "", "passthrough");
    let custom = ("mine", "__main__", "MyTransformer");
    let e = refused(&pipeline_pickle(&[scaler, custom, svc]));
    assert!(
        e.starts_with(
            "field `Pipeline.steps[1].MyTransformer`: unsupported step __main__.MyTransformer, read as an inert placeholder"
        ),
        "{e}"
    );
    assert!(e.contains("apply it before svm2onnx's graph"), "{e}");
    let func = (
        "f",
        "sklearn.preprocessing._function_transformer",
        "FunctionTransformer",
    );
    assert!(refused(&pipeline_pickle(&[func, svc])).contains("steps[0].FunctionTransformer`"));
    // An estimator of another family, last in a Pipeline or alone.
    let forest = ("rf", "sklearn.ensemble._forest", "RandomForestClassifier");
    let e = refused(&pipeline_pickle(&[scaler, forest]));
    assert!(
        e.starts_with("field `Pipeline.steps[1].RandomForestClassifier`: unsupported estimator")
            && e.ends_with("svm2onnx converts SVMs only: fit a supported estimator instead of RandomForestClassifier, or convert it with another converter"),
        "{e}"
    );
    let e = refused(b"\x80\x02csklearn.ensemble._forest\nRandomForestClassifier\n)\x81}b.");
    assert!(
        e.contains("byte offset 2") && e.contains("SVMs only"),
        "{e}"
    );
    // An SGD model is read: with no fitted state it is refused naming the field.
    let e = refused(b"\x80\x02csklearn.linear_model._stochastic_gradient\nSGDClassifier\n)\x81}b.");
    assert!(e.contains("SGDClassifier") && e.contains("loss"), "{e}");
    // A supported estimator before the last step.
    let e = refused(&pipeline_pickle(&[svc, svc]));
    assert!(
        e.contains("steps[0].SVC`")
            && e.contains("only a Pipeline's last step may be an estimator"),
        "{e}"
    );
    // Every message is one line.
    assert!(!e.contains('\n'));
}

#[test]
fn refused_opcodes_name_themselves() {
    for (bytes, what) in [
        (&b"\x80\x02P1\n."[..], "PERSID"),
        (b"\x80\x02K\x01Q.", "PERSID"),
        (b"\x80\x02\x82\x01.", "EXT1"),
        (b"\x80\x05\x97.", "NEXT_BUFFER"),
        (b"\x80\x02(i__main__\nX\n.", "INST"),
        (b"\x80\x02\xff.", "unknown opcode 0xff"),
        (b"\x80\x09.", "protocol 9"),
    ] {
        let e = refused(bytes);
        assert!(e.contains(what), "{what}: {e}");
    }
}

#[test]
fn out_of_band_buffers_are_bytes_taken_in_order_and_counted() {
    let known = |_: &svm2onnx::load::pickle::object::Global| true;
    // (NEXT_BUFFER, NEXT_BUFFER READONLY_BUFFER) as a tuple.
    let stream = b"\x80\x05\x97\x97\x98\x86.";
    let (first, second) = (&b"abc"[..], &b""[..]);
    let buffers = [first, second];
    let (arena, root) = unpickle_with_buffers(stream, &buffers, &known, Limits::default()).unwrap();
    let svm2onnx::load::pickle::object::Obj::Tuple(items) = arena.get(root) else {
        panic!("a tuple: {:?}", arena.get(root));
    };
    let got: Vec<&[u8]> = items.iter().map(|&i| arena.bytes(i).unwrap()).collect();
    assert_eq!(got, vec![first, second]);
    // One buffer too few is refused at the opcode that needs it.
    let e = unpickle_with_buffers(stream, &buffers[..1], &known, Limits::default()).unwrap_err();
    assert_eq!(e.offset, 3, "{e}");
    assert!(
        e.message
            .contains("more out-of-band buffers than the 1 given"),
        "{e}"
    );
}

#[test]
fn deep_nesting_does_not_recurse() {
    // A million nested one-tuples, then a million nested lists via MARK.
    let mut deep = b"\x80\x02N".to_vec();
    deep.extend(std::iter::repeat_n(0x85u8, 1_000_000));
    deep.push(b'.');
    assert!(refused(&deep).contains("expected an estimator"));
    let mut marks = b"\x80\x02".to_vec();
    marks.extend(std::iter::repeat_n(b'(', 1_000_000));
    marks.extend(std::iter::repeat_n(b'l', 1_000_000));
    marks.push(b'.');
    assert!(refused(&marks).contains("expected an estimator"));
    // A list that contains itself: no infinite walk, no leak-driven recursion.
    let cyclic = b"\x80\x02]q\x00h\x00a.";
    assert!(refused(cyclic).contains("expected an estimator"));
}

#[test]
fn declared_sizes_are_checked_against_the_bytes_present() {
    // BINBYTES8 declaring a terabyte in a tiny file.
    let mut huge = b"\x80\x04\x8e".to_vec();
    huge.extend_from_slice(&(1u64 << 40).to_le_bytes());
    huge.extend_from_slice(b"abc.");
    let e = refused(&huge);
    assert!(e.contains("truncated"), "{e}");
    // A numpy array of shape (2^20, 2^20) float64 with 8 bytes of data.
    let mut arr =
        b"\x80\x02cnumpy._core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R"
            .to_vec();
    arr.extend_from_slice(b"(K\x01J\x00\x00\x10\x00J\x00\x00\x10\x00\x86cnumpy\ndtype\nX\x02\x00\x00\x00f8\x89\x88\x87R(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89C\x08\x00\x00\x00\x00\x00\x00\xf0?tb");
    arr.extend_from_slice(b"csklearn.svm._classes\nSVC\n)\x81}(X\x10\x00\x00\x00support_vectors_q\x00h\x01X\x06\x00\x00\x00kernelX\x06\x00\x00\x00linearub.");
    // Stack: [array, SVC]; the array is not the root. Build the root with the
    // array as support_vectors_ instead:
    let e = refused(&arr);
    assert!(!e.is_empty());
    let mut root = b"\x80\x02csklearn.svm._classes\nSVC\n)\x81}(X\x10\x00\x00\x00support_vectors_cnumpy._core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R".to_vec();
    root.extend_from_slice(b"(K\x01J\x00\x00\x10\x00J\x00\x00\x10\x00\x86cnumpy\ndtype\nX\x02\x00\x00\x00f8\x89\x88\x87R(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89C\x08\x00\x00\x00\x00\x00\x00\xf0?tb");
    root.extend_from_slice(b"X\x06\x00\x00\x00kernelX\x06\x00\x00\x00linearX\n\x00\x00\x00_n_supportcnumpy._core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01K\x02\x85cnumpy\ndtype\nX\x02\x00\x00\x00i4\x89\x88\x87R(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89C\x08\x01\x00\x00\x00\x01\x00\x00\x00tbub.");
    let e = refused(&root);
    assert!(
        e.contains("needs 8796093022208 bytes of data, found 8"),
        "{e}"
    );
}

#[test]
fn memo_and_object_limits_hold() {
    let limits = Limits {
        max_objects: 100,
        max_memo: 10,
        max_nested: 1,
    };
    let allow = |_: &svm2onnx::load::pickle::vm::Global| true;
    let mut many = b"\x80\x02]".to_vec();
    for _ in 0..200 {
        many.extend_from_slice(b"Na");
    }
    many.push(b'.');
    let e = unpickle(&many, &allow, limits).unwrap_err();
    assert!(e.message.contains("more than 100 objects"), "{e}");
    let mut memo = b"\x80\x02N".to_vec();
    for i in 0..20u8 {
        memo.extend_from_slice(&[b'q', i]);
    }
    memo.push(b'.');
    let e = unpickle(&memo, &allow, limits).unwrap_err();
    assert!(e.message.contains("more than 10 memo entries"), "{e}");
}

#[test]
fn a_decompression_bomb_is_bounded() {
    use std::io::Write;
    // 64 MiB of zeros compress to ~64 KiB; with a 1 MiB limit it is refused.
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&vec![0u8; 64 << 20]).unwrap();
    let bomb = enc.finish().unwrap();
    let e = svm2onnx::load::pickle::compress::decompress(
        &bomb,
        svm2onnx::load::pickle::compress::Codec::Zlib,
        1 << 20,
    )
    .unwrap_err();
    assert!(e.contains("expands beyond"), "{e}");
}

#[test]
fn decompression_is_bounded_relative_to_the_file() {
    use svm2onnx::load::pickle::{decompression_limit, MAX_DECOMPRESSED};
    assert_eq!(decompression_limit(9_234), 256 << 20);
    assert_eq!(decompression_limit(1 << 20), 1000 << 20);
    assert_eq!(decompression_limit(usize::MAX / 2), MAX_DECOMPRESSED);
    // The fuzzer's bz2 bomb (9 kB → 5 GiB) is refused at 256 MiB.
    let bomb = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/artifacts/load_bytes/oom-bz2-bomb-5GiB.bz2");
    if let Ok(bytes) = std::fs::read(bomb) {
        let e = refused(&bytes);
        assert!(e.contains("expands beyond 268435456 bytes"), "{e}");
    }
}

fn pickles_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickles")
}

#[test]
fn real_files_truncated_at_every_offset_are_refused() {
    let dir = pickles_dir();
    let mut checked = 0;
    for name in [
        "svc_linear_tie_k3_ovr.p2.pkl",
        "svc_linear_tie_k3_ovr.p4.pkl",
        "svc_linear_tie_k3_ovr.p5.pkl",
        "svc_linear_tie_k3_ovr.joblib",
        "svc_linear_tie_k3_ovr.joblib.z",
    ] {
        let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(load_bytes(&bytes).is_ok(), "{name} must load whole");
        for cut in 0..bytes.len() {
            match load_bytes(&bytes[..cut]) {
                Err(LoadError::Pickle { .. } | LoadError::Format(_) | LoadError::Field { .. }) => {}
                Err(other) => panic!("{name} cut at {cut}: unexpected error kind {other}"),
                Ok(_) => panic!("{name} cut at {cut}: accepted"),
            }
            checked += 1;
        }
    }
    assert!(checked > 1000);
}

#[test]
fn the_cli_exits_2_on_hostile_files_and_writes_nothing() {
    let dir = common::scratch_dir("hostile");
    let model = dir.join("evil.pkl");
    std::fs::write(
        &model,
        b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.",
    )
    .unwrap();
    let out = dir.join("out.onnx");
    let o = Command::new(env!("CARGO_BIN_EXE_svm2onnx"))
        .args([
            "convert",
            model.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("os.system, read as an inert placeholder at byte offset 2"),
        "{err}"
    );
    assert!(!out.exists());
}

fn text(out: &mut Vec<u8>, s: &str) {
    out.push(b'X');
    out.extend((s.len() as u32).to_le_bytes());
    out.extend(s.as_bytes());
}

/// Every way a stream can use an unknown global — REDUCE, NEWOBJ,
/// NEWOBJ_EX, BUILD, SETITEMS and APPENDS on what that made, memo reuse —
/// gives an inert placeholder that keeps only the name and its offset.
#[test]
fn what_a_stream_makes_from_an_unknown_global_stays_an_inert_placeholder() {
    use svm2onnx::load::pickle::sklearn::known;
    use svm2onnx::load::pickle::vm::Obj;
    let mut p = b"\x80\x04](".to_vec();
    // 3: os.system, memoized; called with ("touch x",).
    p.extend(b"\x8c\x02os\x8c\x06system\x93\x94");
    text(&mut p, "touch svm2onnx-was-called");
    p.extend(b"\x85R");
    // The same global again from the memo: NEWOBJ, BUILD with a dict state.
    p.extend(b"h\x00)\x81}");
    text(&mut p, "k");
    p.extend(b"Nsb");
    // NEWOBJ_EX with kwargs, then SETITEMS on it (a dict subclass).
    p.extend(b"h\x00)}\x92(");
    text(&mut p, "k");
    p.extend(b"Nu");
    // REDUCE then APPENDS (a list subclass).
    p.extend(b"h\x00)R(Ne");
    // builtins.eval by GLOBAL, called.
    p.extend(b"cbuiltins\neval\n");
    text(&mut p, "1+1");
    p.extend(b"\x85Re.");
    let (arena, root) = unpickle(&p, &known, Limits::default()).unwrap();
    let Obj::List(items) = arena.get(root) else {
        panic!("root is not a list")
    };
    let names: Vec<String> = items
        .iter()
        .map(|id| match arena.get(*id) {
            Obj::Placeholder(ph) => format!("{}@{}", ph.global, ph.offset),
            other => panic!("not a placeholder: {other:?}"),
        })
        .collect();
    // The offsets are those of the STACK_GLOBAL and GLOBAL opcodes.
    let system_at = p.iter().position(|&b| b == 0x93).unwrap();
    let eval_at = p.windows(9).position(|w| w == b"cbuiltins").unwrap();
    let system = format!("os.system@{system_at}");
    assert_eq!(
        names,
        [
            system.clone(),
            system.clone(),
            system.clone(),
            system,
            format!("builtins.eval@{eval_at}"),
        ]
    );
}

/// A real SVC inside a GridSearchCV whose unread fields hold
/// `os.system("touch …")` and `builtins.eval(…)`: it converts to the bytes
/// of the SVC alone, and the command never runs, in the library or the CLI.
#[test]
fn unknown_globals_off_the_converted_path_convert_and_never_run() {
    let svc = std::fs::read(pickles_dir().join("svc_linear_tie_k3_ovr.p2.pkl")).unwrap();
    let mut p = b"\x80\x02csklearn.model_selection._search\nGridSearchCV\n)\x81}(".to_vec();
    text(&mut p, "scorer_");
    p.extend(b"cos\nsystem\n");
    text(&mut p, "touch svm2onnx-was-called");
    p.extend(b"\x85R");
    text(&mut p, "best_estimator_");
    p.extend(&svc[2..svc.len() - 1]);
    text(&mut p, "refit");
    p.extend(b"cbuiltins\neval\n");
    text(
        &mut p,
        "__import__('os').system('touch svm2onnx-was-called')",
    );
    p.extend(b"\x85Rub.");
    let options = svm2onnx::CompileOptions::default();
    let wrapped = svm2onnx::compile(&load_bytes(&p).unwrap().model, &options).unwrap();
    let plain = svm2onnx::compile(&load_bytes(&svc).unwrap().model, &options).unwrap();
    assert!(wrapped == plain, "the search converts to its SVC's bytes");

    let dir = common::scratch_dir("inert");
    std::fs::write(dir.join("search.pkl"), &p).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_svm2onnx"))
        .current_dir(&dir)
        .args(["convert", "search.pkl", "-o", "out.onnx"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(dir.join("out.onnx").exists());
    assert!(!dir.join("svm2onnx-was-called").exists());
}

/// One large argument tuple reused by many REDUCEs: a known callable copies
/// it into each instance, so the copies are counted against the object
/// limit; a placeholder keeps no arguments, so it costs one slot each.
#[test]
fn reusing_a_large_argument_tuple_is_bounded() {
    let limits = Limits {
        max_objects: 1000,
        max_memo: 10,
        max_nested: 1,
    };
    // f memoized; a 300-item tuple of one None (DUP) memoized; then a list
    // of 20 REDUCEs of f with that tuple.
    let stream = |module: &str| {
        let mut p = b"\x80\x02".to_vec();
        p.extend(format!("c{module}\nf\nq\x000(N").as_bytes());
        p.extend(std::iter::repeat_n(b'2', 299));
        p.extend(b"tq\x010](");
        for _ in 0..20 {
            p.extend(b"h\x00h\x01R");
        }
        p.extend(b"e.");
        p
    };
    let known = |g: &svm2onnx::load::pickle::vm::Global| g.module == "known";
    let e = unpickle(&stream("known"), &known, limits).unwrap_err();
    assert!(e.message.contains("argument references"), "{e}");
    let unknown = stream("unknown");
    let (arena, _) = unpickle(&unknown, &known, limits).unwrap();
    assert!(arena.len() < 50, "{} objects", arena.len());
}

/// An unknown global with a 1 MB name called 20,000 times: every
/// placeholder shares the one name (copying it would take 20 GB).
#[test]
fn calling_a_placeholder_copies_no_text() {
    use svm2onnx::load::pickle::sklearn::known;
    use svm2onnx::load::pickle::vm::Obj;
    let mut p = b"\x80\x04".to_vec();
    text(&mut p, &"m".repeat(1 << 20));
    text(&mut p, "f");
    p.extend(b"\x93\x94](");
    for _ in 0..20_000 {
        p.extend(b"h\x00)R");
    }
    p.extend(b"e.");
    let (arena, root) = unpickle(&p, &known, Limits::default()).unwrap();
    let Obj::List(items) = arena.get(root) else {
        panic!("root is not a list")
    };
    assert_eq!(items.len(), 20_000);
    let name = |id: &usize| match arena.get(*id) {
        Obj::Placeholder(ph) => ph.global.clone(),
        other => panic!("not a placeholder: {other:?}"),
    };
    let first = name(&items[0]);
    assert_eq!(first.module.len(), 1 << 20);
    assert!(items
        .iter()
        .all(|id| std::sync::Arc::ptr_eq(&name(id), &first)));
}

/// Where the converted path needs what a placeholder stands for, the error
/// names the field and the global: a search's best estimator that is a
/// user class, an SVC attribute that is the result of `os.system(…)`.
#[test]
fn a_placeholder_on_the_converted_path_is_refused_naming_field_and_global() {
    let mut p = b"\x80\x02csklearn.model_selection._search\nGridSearchCV\n)\x81}(".to_vec();
    text(&mut p, "best_estimator_");
    let at = p.len();
    p.extend(b"c__main__\nMyClassifier\n)\x81}b");
    p.extend(b"ub.");
    let e = refused(&p);
    assert_eq!(
        e.split(" (supported:").next().unwrap(),
        format!(
            "field `GridSearchCV.best_estimator_.MyClassifier`: is __main__.MyClassifier, \
             read as an inert placeholder at byte offset {at}, which svm2onnx cannot convert"
        )
    );
    let mut p = b"\x80\x02csklearn.svm._classes\nSVC\n)\x81}(".to_vec();
    text(&mut p, "kernel");
    text(&mut p, "linear");
    text(&mut p, "_n_support");
    let at = p.len();
    p.extend(b"cos\nsystem\n");
    text(&mut p, "touch svm2onnx-was-called");
    p.extend(b"\x85Rub.");
    let e = refused(&p);
    assert_eq!(
        e,
        format!(
            "field `SVC._n_support`: expected a numpy array, found os.system, \
             read as an inert placeholder at byte offset {at}"
        )
    );
}
