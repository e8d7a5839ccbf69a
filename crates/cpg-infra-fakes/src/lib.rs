//! Fake Cloud Identity, Groups Settings, Hail Batch, metamist and Google token services
//! for the tests of `pulumi-resource-cpg` and of what deploys through it: small HTTP
//! servers on 127.0.0.1 with fault injection (see [`Fakes`] and [`Fault`]). Test
//! support only — the provider binary links none of it.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let fakes = cpg_infra_fakes::Fakes::start("google-token", "hail-token").await?;
//! let config = fakes.provider_config(); // the provider's `Configure` arguments
//! let options = fakes.options(&["main"]); // HAIL_TOKEN_MAIN for the provider
//! # let _ = (config, options);
//! # Ok(()) }
//! ```

mod fakes;

pub use fakes::*;
