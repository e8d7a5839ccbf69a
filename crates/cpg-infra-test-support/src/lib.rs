//! What the workspace's tests share and no shipped binary links: finding the plugin
//! libraries cargo built for a test ([`cdylib`]), holding a plugin's resources
//! against the reference's recording ([`plugin_parity`]) and copying a config
//! directory for a test to edit ([`copy_dir`]).
//!
//! Like the reference's reader, this crate is for tests: it panics, naming what is
//! missing and why, when what a test needs is not there.

mod cdylib;
mod files;
pub mod plugin_parity;

pub use cdylib::cdylib;
pub use files::copy_dir;
