//! A private deploy binary, as an organisation writes it: the Pulumi program that
//! `pulumi preview` and `pulumi up` start. The config directory comes from
//! `CPG_INFRA_CONFIG_DIR`, the plugins from `CPG_INFRA_PLUGINS_DIR` (else `plugins/`
//! beside this binary).

use std::error::Error;
use std::process::ExitCode;

use cpg_infra::config::load_dir;
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra_pulumi::{PulumiMain, chain};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let dir = std::env::var_os("CPG_INFRA_CONFIG_DIR").ok_or("CPG_INFRA_CONFIG_DIR is not set")?;
    let config = load_dir(&dir).map_err(|invalid| {
        let problems: Vec<String> = invalid.diagnostics.iter().map(|d| d.to_string()).collect();
        problems.join("\nerror: ")
    })?;
    let infra = CpgInfrastructure::new(config.infrastructure, config.datasets)?;
    infra.main().map_err(|error| chain(&error))?;
    Ok(())
}
