//! SGD models pickled by older scikit-learn versions (1.0.2, 1.2.2, 1.4.2,
//! 1.6.1; tests/fixtures/make_sgd_version_pickles.py): each pickle converts,
//! compiles to the same graph as its JSON twin (exported by the same
//! version), and the graph, run by tract, reproduces the outputs that version
//! recorded (f64 within 1e-9, labels identical).

mod common;

use common::{files_in, has_ext};
use std::collections::BTreeSet;
use std::path::Path;
use svm2onnx::run::Runner;
use svm2onnx::validate::{default_batches, validate};
use svm2onnx::{compile, load_path, CompileOptions, FloatType};

#[test]
fn old_sgd_pickles_match_their_recorded_outputs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sgd_versions");
    let pickles = files_in(&dir, false, &|p| has_ext(p, &[".pkl"]));
    let mut versions = BTreeSet::new();
    for pickle in &pickles {
        let name = pickle.file_name().unwrap().to_string_lossy().to_string();
        let from_pickle = load_path(pickle).unwrap_or_else(|e| panic!("{name}: {e}"));
        let twin = load_path(&pickle.with_extension("json")).unwrap();
        let options = CompileOptions {
            float: FloatType::F64,
            ..CompileOptions::default()
        };
        let onnx = compile(&from_pickle.model, &options).unwrap();
        assert_eq!(
            onnx,
            compile(&twin.model, &options).unwrap(),
            "{name}: the pickle and its JSON twin give different graphs"
        );
        let samples = twin.samples.as_ref().expect("recorded samples");
        let runner = Runner::new(&onnx).unwrap();
        let report = validate(
            &runner,
            &twin.model,
            &default_batches(&twin.model, Some(samples)),
            1e-9,
        )
        .unwrap();
        assert!(report.passed, "{name}:\n{}", report.render());
        let out = runner.run(samples.x.view()).unwrap();
        if let Some(want) = &samples.predict_proba {
            let got = out.probabilities.as_ref().expect("probabilities");
            let err = got
                .iter()
                .zip(want.iter())
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f64, f64::max);
            assert!(err <= 1e-12, "{name}: predict_proba error {err:e}");
        }
        versions.insert(from_pickle.model.sklearn_version().unwrap().to_string());
    }
    assert_eq!(pickles.len(), 20, "5 models x 4 versions");
    assert_eq!(
        versions.into_iter().collect::<Vec<_>>(),
        ["1.0.2", "1.2.2", "1.4.2", "1.6.1"]
    );
}
