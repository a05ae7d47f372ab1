//! Class labels in scikit-learn's `classes_` order.

use super::ModelError;

/// The class labels. Integer labels become int64 graph outputs, strings become
/// string tensors, other numbers become floating-point outputs.
#[derive(Debug, Clone, PartialEq)]
pub enum Classes {
    /// Integer labels.
    Int(Vec<i64>),
    /// Non-integer numeric labels.
    Float(Vec<f64>),
    /// String labels.
    Str(Vec<String>),
}

/// One class label.
#[derive(Debug, Clone, PartialEq)]
pub enum Label {
    /// An integer label.
    Int(i64),
    /// A numeric label.
    Float(f64),
    /// A string label.
    Str(String),
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Int(v) => write!(f, "{v}"),
            Label::Float(v) => write!(f, "{v}"),
            Label::Str(v) => write!(f, "{v:?}"),
        }
    }
}

impl Classes {
    /// Number of classes.
    pub fn len(&self) -> usize {
        match self {
            Classes::Int(v) => v.len(),
            Classes::Float(v) => v.len(),
            Classes::Str(v) => v.len(),
        }
    }

    /// True without classes (never for a checked model).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The label of class index `c`.
    pub fn label(&self, c: usize) -> Label {
        match self {
            Classes::Int(v) => Label::Int(v[c]),
            Classes::Float(v) => Label::Float(v[c]),
            Classes::Str(v) => Label::Str(v[c].clone()),
        }
    }

    /// The index of a label, if it is one of the classes.
    pub fn index_of(&self, label: &Label) -> Option<usize> {
        match (self, label) {
            (Classes::Int(v), Label::Int(l)) => v.iter().position(|x| x == l),
            (Classes::Int(v), Label::Float(l)) => v.iter().position(|&x| x as f64 == *l),
            (Classes::Float(v), Label::Float(l)) => v.iter().position(|x| x == l),
            (Classes::Float(v), Label::Int(l)) => v.iter().position(|&x| x == *l as f64),
            (Classes::Str(v), Label::Str(l)) => v.iter().position(|x| x == l),
            _ => None,
        }
    }

    /// The labels as a JSON array (for metadata and reports).
    pub fn to_json(&self) -> String {
        match self {
            Classes::Int(v) => serde_json::to_string(v),
            Classes::Float(v) => serde_json::to_string(v),
            Classes::Str(v) => serde_json::to_string(v),
        }
        .unwrap_or_default()
    }

    pub(crate) fn check_unique(&self) -> Result<(), ModelError> {
        let n = self.len();
        for a in 0..n {
            for b in a + 1..n {
                if self.label(a) == self.label(b) {
                    return Err(ModelError::new(
                        format!("classes[{b}]"),
                        format!("duplicates classes[{a}] ({})", self.label(a)),
                    ));
                }
            }
        }
        if let Classes::Float(v) = self {
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(ModelError::new(
                    format!("classes[{i}]"),
                    "is not a finite number",
                ));
            }
        }
        Ok(())
    }
}
