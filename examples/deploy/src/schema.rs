//! `deploy schema`: the JSON Schema of each config file.

use cpg_infra::config::Severity;
use std::process::ExitCode;

use cpg_infra_config_schema::ConfigFile;

/// A config file, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaFile {
    /// The infrastructure config (also config-infrastructure.yaml).
    #[value(name = "cpg.toml", alias = "config-infrastructure.yaml")]
    CpgToml,
    /// The datasets (also config-datasets.yaml).
    #[value(name = "production.yaml", alias = "config-datasets.yaml")]
    ProductionYaml,
    /// A dataset's access groups.
    #[value(name = "members.yaml")]
    MembersYaml,
    /// A dataset's budgets.
    #[value(name = "budgets.yaml")]
    BudgetsYaml,
    /// A dataset's upload buckets and dropboxes.
    #[value(name = "upload.yaml")]
    UploadYaml,
}

impl SchemaFile {
    fn file(self) -> ConfigFile {
        match self {
            SchemaFile::CpgToml => ConfigFile::CpgToml,
            SchemaFile::ProductionYaml => ConfigFile::ProductionYaml,
            SchemaFile::MembersYaml => ConfigFile::MembersYaml,
            SchemaFile::BudgetsYaml => ConfigFile::BudgetsYaml,
            SchemaFile::UploadYaml => ConfigFile::UploadYaml,
        }
    }
}

/// Prints the schema of `file`, or without one an object of every file's schema by
/// file name.
pub fn run(file: Option<SchemaFile>) -> ExitCode {
    let document = match file {
        Some(file) => file.file().schema(),
        None => serde_json::Value::Object(
            ConfigFile::ALL
                .into_iter()
                .map(|f| (f.file_name().to_owned(), f.schema()))
                .collect(),
        ),
    };
    match serde_json::to_string_pretty(&document) {
        Ok(text) => crate::emit(&(text + "\n")),
        Err(error) => {
            eprintln!(
                "{}: cannot write the schema: {error}",
                crate::diagnostics::label(Severity::Error)
            );
            ExitCode::from(1)
        }
    }
}
