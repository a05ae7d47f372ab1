//! What a user can do about a class svm2onnx does not convert: how to keep
//! the step out of the converted graph, or to fit a supported estimator.
//! Errors append it after the list of what is supported.

use super::SUPPORTED;
use crate::load::pickle::object::{Global, Placeholder};

/// Where the walk to the converted model met a placeholder.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Needed {
    /// As the model itself: the root, a search's `best_estimator_`, a
    /// calibrated member's base estimator.
    Model,
    /// As a Pipeline step; `last` when it ends the Pipeline.
    Step { last: bool },
}

/// The problem of a field that holds a placeholder where `needed`: which
/// name it stands for, where in the stream, what is supported and what to
/// do. Nothing about the name was imported, so this is all there is to say.
pub(crate) fn unconverted(p: &Placeholder, needed: Needed) -> String {
    let g = &p.global;
    match needed {
        Needed::Step { last } => format!(
            "unsupported {} {p} (supported: {SUPPORTED}); {}",
            if last { "estimator" } else { "step" },
            what_to_do(g, last)
        ),
        Needed::Model => {
            let todo = if g.module.starts_with("sklearn.") {
                what_to_do(g, false)
            } else {
                "svm2onnx converts scikit-learn SVMs: fit and pickle a supported estimator"
                    .to_string()
            };
            format!("is {p}, which svm2onnx cannot convert (supported: {SUPPORTED}); {todo}")
        }
    }
}

/// scikit-learn packages whose classes transform features rather than
/// predict.
const TRANSFORMER_PACKAGES: &[&str] = &[
    "sklearn.preprocessing",
    "sklearn.compose",
    "sklearn.decomposition",
    "sklearn.feature_selection",
    "sklearn.feature_extraction",
    "sklearn.impute",
    "sklearn.kernel_approximation",
    "sklearn.random_projection",
    "sklearn.cross_decomposition",
    "sklearn.manifold",
];

/// What to do about `class`, as one clause for the end of an error line;
/// `last_step` when it ends a Pipeline, where an estimator is expected.
pub(crate) fn what_to_do(class: &Global, last_step: bool) -> String {
    let transformer = !class.module.starts_with("sklearn.")
        || TRANSFORMER_PACKAGES
            .iter()
            .any(|p| class.module == *p || class.module.starts_with(&format!("{p}.")));
    if transformer && last_step {
        "a Pipeline must end in a supported estimator: add one after this step".to_string()
    } else if transformer {
        "apply it before svm2onnx's graph and feed the transformed features, \
         or replace it with a supported step"
            .to_string()
    } else {
        format!(
            "svm2onnx converts SVMs only: fit a supported estimator instead of {}, \
             or convert it with another converter",
            class.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(module: &str, name: &str) -> Global {
        Global {
            module: module.into(),
            name: name.into(),
        }
    }

    #[test]
    fn advice_names_the_nearest_estimator_or_the_workaround() {
        let ohe = what_to_do(
            &g("sklearn.preprocessing._encoders", "OneHotEncoder"),
            false,
        );
        assert!(ohe.starts_with("apply it before"), "{ohe}");
        let custom = what_to_do(&g("__main__", "MyScaler"), false);
        assert!(custom.starts_with("apply it before"), "{custom}");
        let forest = what_to_do(
            &g("sklearn.ensemble._forest", "RandomForestClassifier"),
            false,
        );
        assert!(forest.contains("SVMs only"), "{forest}");
        let last = what_to_do(&g("sklearn.preprocessing._data", "StandardScaler"), true);
        assert!(last.contains("must end in a supported estimator"), "{last}");
    }
}
