//! The command line itself: help for every command, completions, colour, exit codes.

use super::support::{TempDir, deploy, text};

/// The subcommands the top-level help lists, `help` aside.
fn subcommands() -> Vec<String> {
    let help = text(&deploy(&["--help"]).stdout);
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn top_level_help_lists_commands_and_exit_codes() {
    let output = deploy(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = text(&output.stdout);
    insta::assert_snapshot!("help", help);
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(subcommands().len() >= 4, "{help}");
}

#[test]
fn every_command_has_help_with_examples() {
    for command in subcommands() {
        let output = deploy(&[&command, "--help"]);
        assert_eq!(output.status.code(), Some(0), "{command}");
        let help = text(&output.stdout);
        assert!(help.contains("Examples:\n  deploy "), "{command}:\n{help}");
        insta::assert_snapshot!(format!("help-{command}"), help);
    }
}

#[test]
fn no_command_outside_pulumi_points_to_the_help_and_exits_2() {
    // Without a command deploy is the Pulumi program; by hand it is a usage error.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_deploy"))
        .env_remove("PULUMI_MONITOR")
        .output()
        .expect("run deploy");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(
        text(&output.stderr).contains("`deploy --help` lists the commands"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn config_dir_is_only_for_the_pulumi_program() {
    let output = deploy(&["--config-dir", "config", "validate", "config"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("--config-dir is only for running as a Pulumi program"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn usage_errors_name_the_problem_and_exit_2() {
    let unknown = deploy(&["frobnicate", "x"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("unrecognized subcommand 'frobnicate'"));
    let not_a_number = deploy(&["generate", "many", "/nonexistent"]);
    assert_eq!(not_a_number.status.code(), Some(2));
    assert!(text(&not_a_number.stderr).contains("invalid value 'many'"));
    let extra = deploy(&["validate", "a", "b"]);
    assert_eq!(extra.status.code(), Some(2));
    let missing = deploy(&["generate", "3"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("<DIR>"));
    let bad_color = deploy(&["--color", "sometimes", "validate", "a"]);
    assert_eq!(bad_color.status.code(), Some(2));
}

#[test]
fn color_always_styles_help_and_never_does_not() {
    let always = text(&deploy(&["--color", "always", "plan", "--help"]).stdout);
    assert!(always.contains("\u{1b}["), "{always}");
    let never = text(&deploy(&["--color=never", "plan", "--help"]).stdout);
    assert!(!never.contains('\u{1b}'), "{never}");
    // Not a terminal: auto is plain.
    let auto = text(&deploy(&["plan", "--help"]).stdout);
    assert!(!auto.contains('\u{1b}'), "{auto}");
}

#[test]
fn completions_cover_every_command_in_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = deploy(&["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = text(&output.stdout);
        for command in subcommands() {
            assert!(script.contains(&command), "{shell} lacks {command}");
        }
    }
    assert_eq!(deploy(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn generate_refuses_a_directory_that_is_not_empty() {
    let dir = TempDir::new("generate");
    std::fs::write(dir.0.join("keep"), "x").expect("write");
    let output = deploy(&["generate", "3", dir.path()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("is not empty"));
    assert!(dir.0.join("keep").exists());
}

#[test]
fn generate_writes_a_config_that_validates() {
    let dir = TempDir::new("generate");
    let target = dir.0.join("org");
    let target = target.to_str().expect("utf-8 path");
    let output = deploy(&["generate", "3", target, "--seed", "7"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let valid = deploy(&["validate", target]);
    assert_eq!(valid.status.code(), Some(0), "{}", text(&valid.stderr));
}

#[test]
fn the_subcommands_of_shards_have_help_with_examples() {
    let output = deploy(&["shards", "split-state", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = text(&output.stdout);
    assert!(help.contains("Examples:\n  deploy "), "{help}");
    insta::assert_snapshot!("help-shards-split-state", help);
    // Showing the shards and a subcommand together is a usage error.
    let both = deploy(&["shards", "config", "split-state", "a", "b", "c"]);
    assert_eq!(both.status.code(), Some(2));
}
