//! The reference's `dict_to_toml` after its `update_dict` merges:
//! `TomlSort(toml.dumps(d)).sorted()` with toml 0.10.2 and toml-sort 0.25.0.
//!
//! `toml.dumps` writes a table's values under its header, and tables breadth-first
//! (every table one level deep, then every table two levels deep, …), leaving out
//! the headers of tables with nothing but sub-tables. toml-sort re-reads that text
//! and sorts each table, children before parents: values by key, then sub-tables
//! by key. A table already in order is left where it is; one that is not is
//! gathered: its header, its sorted values, then each sub-table with everything
//! beneath it, at the place of its first line, pushing whatever else lay between
//! its lines after it. So the layout depends on the dicts' insertion order, which
//! is why the emulation keeps it.
//!
//! This module holds the steps in order: [`merged`] reads and merges the texts
//! (with [`Dict::update`](super::Dict::update)), [`dict_to_toml`] writes a dict;
//! [`parse`](mod@parse) reads a text as `toml.loads` does, [`dump`] writes
//! `toml.dumps`' lines, [`string`] its strings and keys, and [`sort`] is
//! toml-sort's pass.

mod dump;
mod parse;
mod sort;
mod string;

pub(crate) use self::parse::first_position;

use self::dump::dumps;
use self::parse::parse;
use self::sort::{sort_document, write};
use super::Dict;

/// Why a dict cannot be rendered as the reference renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TomlError {
    /// A text to merge is not TOML.
    Invalid {
        /// The text's position among those merged.
        index: usize,
        /// The parser's message.
        message: String,
    },
    /// Something the reference cannot render either (it raises or writes TOML it
    /// cannot read back), or that this emulation does not cover; what it is.
    Unsupported(String),
}

/// The error for something the reference cannot render, or this emulation does
/// not cover.
fn unsupported(reason: impl Into<String>) -> TomlError {
    TomlError::Unsupported(reason.into())
}

/// The TOML `texts` read as `toml.loads` reads them and merged in order with
/// `update_dict`.
pub(crate) fn merged(texts: &[String]) -> Result<Dict, TomlError> {
    let mut config = Dict::default();
    for (index, text) in texts.iter().enumerate() {
        config.update(parse(index, text)?);
    }
    Ok(config)
}

/// `dict_to_toml(config)`: `TomlSort(toml.dumps(config)).sorted()`.
pub(crate) fn dict_to_toml(config: &Dict) -> Result<String, TomlError> {
    let mut slots = dumps(config)?;
    sort_document(&mut slots);
    Ok(write(&slots))
}

/// A line of the document: a table header or a `key = value` line. `path` is
/// the table's path, or the value's key path, as a TOML reader names them.
#[derive(Debug, Clone)]
struct Slot {
    path: Vec<String>,
    header: bool,
    text: String,
}
