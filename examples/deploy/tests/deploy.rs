//! The `deploy` binary, run as a user runs it.

mod deploy {
    pub mod access;
    pub mod adversarial;
    pub mod commands;
    pub mod diff;
    pub mod docs;
    pub mod help;
    pub mod program;
    pub mod schema;
    pub mod split_state;
    pub mod state;
    pub mod support;
    pub mod targets;
}
