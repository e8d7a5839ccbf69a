//! Integration tests of the plugin ABI: fixture libraries built by cargo, opened
//! through the real loader, and run by the driver.

mod plugin_api {
    pub mod adversarial;
    pub mod lifecycle;
    pub mod loader;
    pub mod parity;
    pub mod support;
}
