//! Unit tests of the LIBSVM reader: accepted files and hostile inputs.

use super::*;
use crate::model::{Classes, Convention};

const BINARY: &str = "svm_type c_svc\nkernel_type rbf\ngamma 0.5\nnr_class 2\ntotal_sv 3\nrho 0.25\nlabel 1 -1\nnr_sv 2 1\nSV\n1 1:0.5 3:1\n0.5 2:1\n-1.5 1:-1 2:0.25\n";

fn fails(text: &str) -> String {
    match load(text.as_bytes(), None) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn reads_a_binary_model_in_libsvm_signs() {
    let loaded = load(BINARY.as_bytes(), None).unwrap();
    let Model::Svc(m) = loaded.model else {
        panic!("a classifier")
    };
    assert_eq!(*m.classes(), Classes::Int(vec![1, -1]));
    assert_eq!(m.n_features(), 3);
    assert_eq!(m.libsvm_dual_coef().row(0).to_vec(), vec![1.0, 0.5, -1.5]);
    assert_eq!(m.libsvm_intercept().to_vec(), vec![-0.25]);
    assert_eq!(m.support_vectors()[[0, 2]], 1.0);
    assert_eq!(m.support_vectors()[[1, 0]], 0.0);
    assert_eq!(m.convention(), Convention::Libsvm);
}

#[test]
fn n_features_widens_and_must_cover_the_indices() {
    let loaded = load(BINARY.as_bytes(), Some(5)).unwrap();
    assert_eq!(loaded.model.n_features(), 5);
    let e = load(BINARY.as_bytes(), Some(2)).unwrap_err().to_string();
    assert!(e.contains("n_features 2") && e.contains("line 10"), "{e}");
}

#[test]
fn hostile_inputs_name_line_and_field() {
    // Truncated support-vector section.
    let e = fails(&BINARY[..BINARY.rfind("-1.5").unwrap()]);
    assert!(
        e.contains("found 2 support vectors") && e.contains("total_sv"),
        "{e}"
    );
    // No SV line at all.
    let e = fails(&BINARY[..BINARY.find("SV\n").unwrap()]);
    assert!(e.contains("`SV`"), "{e}");
    // Wrong coefficient count (3 classes need 2 per line).
    let three = BINARY
        .replace("nr_class 2", "nr_class 3")
        .replace("rho 0.25", "rho 0.25 0 1")
        .replace("label 1 -1", "label 1 -1 2")
        .replace("nr_sv 2 1", "nr_sv 1 1 1");
    let e = fails(&three);
    assert!(
        e.contains("line 10") && e.contains("2 coefficient(s)"),
        "{e}"
    );
    // Index 0.
    let e = fails(&BINARY.replace("2:1\n", "0:1\n"));
    assert!(e.contains("line 11") && e.contains("SV index"), "{e}");
    // Non-numeric values.
    let e = fails(&BINARY.replace("gamma 0.5", "gamma half"));
    assert!(
        e.contains("line 3") && e.contains("gamma") && e.contains("'half'"),
        "{e}"
    );
    let e = fails(&BINARY.replace("3:1", "3:x"));
    assert!(e.contains("line 10") && e.contains("SV value"), "{e}");
    let e = fails(&BINARY.replace("rho 0.25", "rho nan"));
    assert!(e.contains("line 6") && e.contains("finite"), "{e}");
    // nr_sv that does not sum to total_sv.
    let e = fails(&BINARY.replace("nr_sv 2 1", "nr_sv 2 2"));
    assert!(e.contains("line 8") && e.contains("nr_sv"), "{e}");
    // Huge declared counts: refused from the lines present, nothing reserved.
    let e = fails(&BINARY.replace("total_sv 3", "total_sv 18446744073709551615"));
    assert!(e.contains("total_sv"), "{e}");
    let e = fails(&BINARY.replace("nr_class 2", "nr_class 4294967297"));
    assert!(e.contains("line 4") && e.contains("nr_class"), "{e}");
    let e = fails(&BINARY.replace("3:1", "3000000000000:1"));
    assert!(e.contains("too large"), "{e}");
    // Precomputed kernels, duplicates, unknown keywords, unsorted indices.
    let e = fails(&BINARY.replace("kernel_type rbf", "kernel_type precomputed"));
    assert!(e.contains("line 2") && e.contains("precomputed"), "{e}");
    let e = fails(&BINARY.replace("label 1 -1", "label 1 1"));
    assert!(e.contains("line 7") && e.contains("twice"), "{e}");
    let e = fails(&BINARY.replace("nr_sv 2 1", "nr_sv 2 1\nweights 3"));
    assert!(e.contains("line 9") && e.contains("weights"), "{e}");
    let e = fails(&BINARY.replace("1:0.5 3:1", "3:1 1:0.5"));
    assert!(e.contains("line 10") && e.contains("increase"), "{e}");
    let e = fails(&BINARY.replace("label 1 -1\n", ""));
    assert!(e.contains("label") && e.contains("missing"), "{e}");
}

#[test]
fn dual_models_and_extras() {
    let text = "svm_type one_class\nkernel_type linear\nnr_class 2\ntotal_sv 2\nrho 0.5\nprob_density_marks 0 1 2 3 4 5 6 7 8 9\nSV\n0.75 1:1\n0.25 2:2\n";
    let loaded = load(text.as_bytes(), None).unwrap();
    let Model::Dual(m) = loaded.model else {
        panic!("dual")
    };
    assert_eq!(m.kind(), DualKind::OneClassSvm);
    assert_eq!(m.intercept(), -0.5);
    assert_eq!(m.density_marks().unwrap()[9], 9.0);
    let e = fails(&text.replace(" 9\n", "\n"));
    assert!(e.contains("line 6") && e.contains("expected 10"), "{e}");
    let svr = text
        .replace("one_class", "epsilon_svr")
        .replace("prob_density_marks 0 1 2 3 4 5 6 7 8 9", "probA 0.125");
    let Model::Dual(m) = load(svr.as_bytes(), None).unwrap().model else {
        panic!("dual")
    };
    assert_eq!(m.svr_sigma(), Some(0.125));
}

#[test]
fn recognises_by_content() {
    assert!(recognise(b"\n  svm_type c_svc\n"));
    assert!(!recognise(b"{\"svm_type\": 1}"));
}
