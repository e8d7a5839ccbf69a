//! What the reference's output owes to Python itself: the texts its resources hold
//! were written by Python, so ours are written the same way, byte for byte.
//!
//! The bottom layer of the crate: it knows nothing of configs, values or resources,
//! only Python's own data (`str`, `float`, `dict`, …), so every layer above can use
//! it. [`repr`](mod@repr) is Python's `repr` of floats and strings; [`json`] is
//! `json.dumps` with its default arguments; [`toml`](mod@toml) is the reference's
//! `dict_to_toml` after `update_dict`; [`base64`](mod@base64) is the lenient
//! `base64.b64decode`.

pub(crate) mod base64;
pub(crate) mod json;
pub(crate) mod repr;
pub(crate) mod toml;

/// A Python value as `toml.dumps` sees it; dicts keep their insertion order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Py {
    /// `None`.
    None,
    /// A `bool`.
    Bool(bool),
    /// An `int` that fits 64 bits.
    Int(i64),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(String),
    /// A `list`.
    List(Vec<Py>),
    /// A `dict`.
    Dict(Dict),
}

/// A Python dict: its entries in insertion order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Dict(pub(crate) Vec<(String, Py)>);

impl Dict {
    /// `cpg_utils.config.update_dict(self, other)`: dicts under the same key
    /// merge recursively, anything else replaces the value in place; new keys
    /// are appended.
    pub(crate) fn update(&mut self, other: Dict) {
        for (key, new) in other.0 {
            match self.0.iter().position(|(k, _)| *k == key) {
                Some(i) => match (&mut self.0[i].1, new) {
                    (Py::Dict(existing), Py::Dict(new)) => existing.update(new),
                    (slot, new) => *slot = new,
                },
                None => self.0.push((key, new)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_merges_tables_and_appends_new_keys() {
        let mut d1 = Dict(vec![
            ("a".into(), Py::Int(1)),
            ("b".into(), Py::Dict(Dict(vec![("c".into(), Py::Int(1))]))),
        ]);
        d1.update(Dict(vec![
            (
                "b".into(),
                Py::Dict(Dict(vec![
                    ("d".into(), Py::Int(2)),
                    ("c".into(), Py::Int(2)),
                ])),
            ),
            ("a".into(), Py::Str("x".into())),
            ("e".into(), Py::None),
        ]));
        assert_eq!(
            d1,
            Dict(vec![
                ("a".into(), Py::Str("x".into())),
                (
                    "b".into(),
                    Py::Dict(Dict(vec![
                        ("c".into(), Py::Int(2)),
                        ("d".into(), Py::Int(2))
                    ]))
                ),
                ("e".into(), Py::None),
            ])
        );
    }
}
