//! `deploy shards`: the organisation cut into a stack per dataset — the shards,
//! their sizes, what each reads from which, and the waves.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use cpg_infra::config::{Layout, Severity};
use cpg_infra::error_chain as chain;
use cpg_infra::plugin::Mode;
use cpg_infra::shard::ShardPlan;
use cpg_infra_kinds::split::{SplitOptions, split_file};
use serde_json::{Value as Json, json};

/// The version of `deploy shards --json`'s document.
const FORMAT_VERSION: u64 = 1;

/// Plans `dir` as `deploy plan` does and prints its shards (`json`: the document
/// [`to_json`] describes). Exits 1 when the config is invalid or the shards need
/// each other.
pub fn run(dir: &Path, json: bool, plugins_dir: Option<&Path>) -> ExitCode {
    let (layout, plan) = match shard_plan(dir, plugins_dir) {
        Ok(planned) => planned,
        Err(code) => return code,
    };
    if json {
        let mut text = serde_json::to_string_pretty(&to_json(&plan)).unwrap_or_default();
        text.push('\n');
        crate::emit(&text)
    } else {
        crate::emit(&render(&plan, layout))
    }
}

/// `deploy shards split-state`: splits the single stack's export at `export` into
/// one export per shard stack of the config at `dir`, written to
/// `<out_dir>/<stack>.json` for `pulumi stack import`, and prints the summary (what
/// each stack holds, the references dropped) to standard error. Exits 1 when the
/// config is invalid, the shards need each other, or the export is refused or cannot
/// be read or written (nothing is written then).
pub fn split_state(
    export: &Path,
    dir: &Path,
    out_dir: &Path,
    options: SplitOptions,
    plugins_dir: Option<&Path>,
) -> ExitCode {
    let (layout, plan) = match shard_plan(dir, plugins_dir) {
        Ok(planned) => planned,
        Err(code) => return code,
    };
    let shards = (
        |type_token: &str, name: &str| plan.stack_of_resource(type_token, name).map(String::from),
        |export: &str| plan.stack_of_export(export).map(String::from),
    );
    match split_file(export, out_dir, None, &shards, options) {
        Ok(split) => {
            eprint!("{}", split.summary());
            eprintln!(
                "wrote {} stack export(s) to {}",
                split.shards.len(),
                out_dir.display()
            );
            if layout == Layout::SingleStack {
                eprintln!(
                    "{}: {} deploys as one stack: set `layout = \"stack-per-dataset\"` under \
                     [deploy] in cpg.toml before deploying the shard stacks",
                    crate::diagnostics::label(Severity::Warning),
                    dir.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => crate::diagnostics::fail(&error),
    }
}

/// The config at `dir` planned as `deploy plan` plans it and cut into shards, with
/// its layout; the problems are printed and the exit code returned when it cannot be.
fn shard_plan(dir: &Path, plugins_dir: Option<&Path>) -> Result<(Layout, ShardPlan), ExitCode> {
    let Some(config) = crate::diagnostics::load_checked(dir, false) else {
        return Err(ExitCode::from(1));
    };
    let layout = config.infrastructure.deploy.layout;
    let infrastructure = crate::plugins::prepare(config, plugins_dir, Mode::Plan)?;
    let error = |message: String| {
        eprintln!(
            "{}: {}: {message}",
            dir.display(),
            crate::diagnostics::label(Severity::Error)
        );
        ExitCode::from(1)
    };
    let built = crate::plugins::build(&infrastructure).map_err(|e| error(chain(&e)))?;
    let plan = ShardPlan::new(&built.graph, &built.origins).map_err(|e| error(chain(&e)))?;
    Ok((layout, plan))
}

/// The shards for people: one line per shard, wave by wave, with its size and
/// what it reads from which.
fn render(plan: &ShardPlan, layout: Layout) -> String {
    let total: usize = plan.shards().iter().map(|s| s.resources.len()).sum();
    let mut out = format!(
        "{} shards in {} waves, {total} resources\n",
        plan.shards().len(),
        plan.waves().len()
    );
    if layout == Layout::SingleStack {
        out.push_str(
            "(deployed as one stack: set `layout = \"stack-per-dataset\"` under [deploy] in \
             cpg.toml to deploy these)\n",
        );
    }
    let width = plan
        .shards()
        .iter()
        .map(|s| s.stack.len())
        .max()
        .unwrap_or(0);
    for (wave, shards) in plan.waves().iter().enumerate() {
        let _ = writeln!(out, "\nwave {wave}");
        for &index in shards {
            let shard = plan.shard(index);
            let _ = write!(
                out,
                "  {:<width$}  {:>6} resources",
                shard.stack,
                shard.resources.len()
            );
            let reads: Vec<String> = shard
                .reads
                .iter()
                .map(|(from, names)| format!("{} ({})", plan.shard(*from).stack, names.len()))
                .collect();
            if !reads.is_empty() {
                let _ = write!(out, "  reads {}", reads.join(", "));
            }
            let after: Vec<&str> = shard
                .after
                .iter()
                .map(|i| plan.shard(*i).stack.as_str())
                .collect();
            if !after.is_empty() {
                let _ = write!(out, "  after {}", after.join(", "));
            }
            out.push('\n');
        }
    }
    out
}

/// The document of `deploy shards --json`:
///
/// - `format_version`: 1;
/// - `shards`: in plan order, each with `stack` (its Pulumi stack), `kind`
///   (`organisation`, `dataset`, `after-datasets`), `dataset` (for a dataset
///   shard), `wave`, `resources` (how many), `exports` (the graph's own stack
///   exports it declares), `reads` (per stack it reads from: `stack` and
///   `outputs`, each `export` name with the `resource` (`type::name`) and
///   `property` behind it) and `after` (stacks it only depends on);
/// - `waves`: the stacks of each wave, in order: a wave's stacks can be deployed
///   in parallel once the earlier waves are.
fn to_json(plan: &ShardPlan) -> Json {
    let mut wave_of = vec![0; plan.shards().len()];
    for (wave, shards) in plan.waves().iter().enumerate() {
        for &index in shards {
            wave_of[index] = wave;
        }
    }
    let shards: Vec<Json> = plan
        .shards()
        .iter()
        .enumerate()
        .map(|(index, shard)| {
            let (kind, dataset) = match &shard.key {
                cpg_infra::driver::Origin::Dataset(name) => ("dataset", Json::from(name.as_str())),
                cpg_infra::driver::Origin::AfterDatasets => ("after-datasets", Json::Null),
                _ => ("organisation", Json::Null),
            };
            let reads: Vec<Json> = shard
                .reads
                .iter()
                .map(|(from, outputs)| {
                    let outputs: Vec<Json> = outputs
                        .iter()
                        .map(|(export, output)| {
                            json!({
                                "export": export,
                                "resource": output.resource.to_string(),
                                "property": output.property,
                            })
                        })
                        .collect();
                    json!({"stack": plan.shard(*from).stack, "outputs": outputs})
                })
                .collect();
            let after: Vec<&str> = shard
                .after
                .iter()
                .map(|i| plan.shard(*i).stack.as_str())
                .collect();
            json!({
                "stack": shard.stack,
                "kind": kind,
                "dataset": dataset,
                "wave": wave_of[index],
                "resources": shard.resources.len(),
                "exports": shard.exports,
                "reads": reads,
                "after": after,
            })
        })
        .collect();
    let waves: Vec<Vec<&str>> = plan
        .waves()
        .iter()
        .map(|wave| wave.iter().map(|i| plan.shard(*i).stack.as_str()).collect())
        .collect();
    json!({
        "format_version": FORMAT_VERSION,
        "shards": shards,
        "waves": waves,
    })
}
