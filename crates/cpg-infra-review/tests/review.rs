//! Effective access and plan differences on whole plans.

mod review {
    pub mod access;
    pub mod adversarial;
    pub mod diff;
    pub mod replace;
    pub mod support;
}
