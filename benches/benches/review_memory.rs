//! Peak memory of the review commands against `plan --json`, on a synthetic
//! organisation of N datasets (2,000 unless `CPG_BENCH_DATASETS` says otherwise):
//! `access` and `diff` should need no more than about twice what `plan --json`
//! needs. Each command runs as its own process of the release `deploy` binary
//! (`CPG_DEPLOY`, else the one beside this bench: `cargo build --release -p deploy`
//! first), its output thrown away; its peak resident set size and wall time are
//! read by GNU time (`/usr/bin/time`). Not a criterion bench: one run of each is
//! the measurement, and a run takes seconds to minutes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use cpg_infra::synthetic::{synthetic_config, write_config_dir};

/// What is run: a name, and the arguments after `deploy`.
struct Case {
    name: &'static str,
    args: Vec<String>,
}

/// Peak resident set size and wall time of one run.
struct Measured {
    peak_kb: u64,
    wall: Duration,
}

fn deploy_binary() -> Option<PathBuf> {
    if let Some(given) = std::env::var_os("CPG_DEPLOY") {
        return Some(PathBuf::from(given));
    }
    // target/<profile>/deps/review_memory-<hash> → target/<profile>/deploy
    let exe = std::env::current_exe().ok()?;
    let beside = exe.parent()?.parent()?.join("deploy");
    beside.is_file().then_some(beside)
}

fn measure(deploy: &Path, case: &Case, scratch: &Path) -> Result<Measured, String> {
    let report = scratch.join(format!("{}.time", case.name.replace(' ', "-")));
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M %e")
        .arg("-o")
        .arg(&report)
        .arg(deploy)
        .args(&case.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run /usr/bin/time (GNU time): {e}"))?;
    // `diff` exits 0 whether or not something changes (no --exit-code).
    if !status.success() {
        return Err(format!(
            "deploy {} exited with {status}",
            case.args.join(" ")
        ));
    }
    let text =
        std::fs::read_to_string(&report).map_err(|e| format!("{}: {e}", report.display()))?;
    let mut fields = text.split_whitespace();
    let peak_kb = fields.next().and_then(|f| f.parse().ok());
    let wall = fields.next().and_then(|f| f.parse::<f64>().ok());
    match (peak_kb, wall) {
        (Some(peak_kb), Some(wall)) => Ok(Measured {
            peak_kb,
            wall: Duration::from_secs_f64(wall),
        }),
        _ => Err(format!(
            "{}: unexpected GNU time output {text:?}",
            report.display()
        )),
    }
}

fn main() {
    let datasets: usize = std::env::var("CPG_BENCH_DATASETS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let Some(deploy) = deploy_binary() else {
        eprintln!(
            "review_memory: no deploy binary; run `cargo build --release -p deploy` first \
             or set CPG_DEPLOY"
        );
        return;
    };
    let scratch = tempfile::Builder::new()
        .prefix("cpg-infra-review-memory-")
        .tempdir()
        .expect("temporary directory");
    let old = scratch.path().join("old");
    let new = scratch.path().join("new");
    // The same organisation, and one drawn with another seed: a change to everything.
    write_config_dir(&synthetic_config(datasets, 42), &old).expect("write the config");
    write_config_dir(&synthetic_config(datasets, 43), &new).expect("write the config");
    let path = |p: &Path| p.display().to_string();
    let case = |name, args: &[&str]| Case {
        name,
        args: args.iter().map(|a| a.to_string()).collect(),
    };
    let (o, n) = (path(&old), path(&new));
    let cases = [
        case("plan --json", &["plan", &o, "--json"]),
        case("access", &["access", &o]),
        case("access --json", &["access", &o, "--json"]),
        case("diff, no change", &["diff", &o, &o]),
        case("diff --json, no change", &["diff", &o, &o, "--json"]),
        case("diff, everything", &["diff", &o, &n]),
        case("diff --json, everything", &["diff", &o, &n, "--json"]),
    ];
    println!("{datasets} datasets, {}", deploy.display());
    println!("| command | peak RSS | × plan --json | wall time |\n|---|---:|---:|---:|");
    let mut baseline = None;
    for case in &cases {
        match measure(&deploy, case, scratch.path()) {
            Ok(m) => {
                let base = *baseline.get_or_insert(m.peak_kb);
                println!(
                    "| `{}` | {:.2} GB | {:.2} | {:.1} s |",
                    case.name,
                    m.peak_kb as f64 * 1024.0 / 1e9,
                    m.peak_kb as f64 / base as f64,
                    m.wall.as_secs_f64()
                );
            }
            Err(error) => println!("| `{}` | failed: {error} | | |", case.name),
        }
    }
}
