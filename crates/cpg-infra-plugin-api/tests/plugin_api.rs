//! Integration tests of the plugin ABI: fixture libraries built by cargo, opened
//! through the real loader, and run by the driver. (The plugins' parity with the
//! reference is tested in-process in their own crates.)

mod plugin_api {
    pub mod adversarial;
    pub mod lifecycle;
    pub mod loader;
    pub mod support;
}
