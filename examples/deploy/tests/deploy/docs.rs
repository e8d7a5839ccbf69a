//! The documentation's links resolve: every relative link in `README.md`,
//! `ARCHITECTURE.md` and the guide under `docs/` names a file or directory of the
//! repository, and a `#fragment` into a Markdown file names one of its headings, as
//! GitHub renders them.
//!
//! The checker reads Markdown as GitHub does where it matters for links: fenced code
//! blocks and inline code spans hold no links, links are inline (`[text](target)`,
//! `![alt](target)`) or reference definitions (`[label]: target`), and headings are
//! ATX headings (`## Title`) whose anchors are GitHub's slugs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};

/// The Markdown files whose links are checked, relative to the repository root:
/// these two and every `.md` file under `docs/`.
const TOP_LEVEL_DOCUMENTS: [&str; 2] = ["README.md", "ARCHITECTURE.md"];

/// Where the checker finds files: the repository on disk, or files in memory for the
/// checker's own tests. Paths are relative to the repository root.
trait Tree {
    /// Whether `path` is a file or a directory.
    fn exists(&self, path: &Path) -> bool;
    /// The text of the file at `path`, if it is one.
    fn read(&self, path: &Path) -> Option<String>;
}

/// The repository on disk.
struct Disk {
    root: PathBuf,
}

impl Tree for Disk {
    fn exists(&self, path: &Path) -> bool {
        self.root.join(path).exists()
    }

    fn read(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(self.root.join(path)).ok()
    }
}

/// A link that does not resolve.
#[derive(Debug, PartialEq, Eq)]
struct Broken {
    /// The document the link is in.
    file: PathBuf,
    /// The line the link's target is on.
    line: usize,
    /// The target as written.
    target: String,
    /// Why it does not resolve.
    reason: String,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: ({}) {}",
            self.file.display(),
            self.line,
            self.target,
            self.reason
        )
    }
}

/// A link's target and the line it is on.
#[derive(Debug, PartialEq, Eq)]
struct Link {
    line: usize,
    target: String,
}

/// `text` with every line of a fenced code block (fences included) blanked, so that
/// neither links nor headings are found in code. Line breaks are kept.
fn without_code_blocks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // The open fence's character and length.
    let mut fence: Option<(char, usize)> = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        let run = |c: char| trimmed.chars().take_while(|&x| x == c).count();
        let opens = ['`', '~']
            .into_iter()
            .map(|c| (c, run(c)))
            .find(|&(_, n)| n >= 3 && indent <= 3);
        match (fence, opens) {
            (None, Some(open)) => fence = Some(open),
            (Some((c, n)), Some((d, m))) if c == d && m >= n && trimmed[m..].trim().is_empty() => {
                fence = None;
            }
            (None, None) => {
                out.push_str(line);
                continue;
            }
            _ => {}
        }
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// `text` with every inline code span blanked (backticks included); line breaks are
/// kept. A run of backticks opens a span that the next run of the same length in
/// the same paragraph closes; a run without a closer is literal.
fn without_code_spans(text: &str) -> String {
    let bytes = text.as_bytes();
    let run_at = |i: usize| bytes[i..].iter().take_while(|&&b| b == b'`').count();
    // A line break followed by a blank line ends the paragraph.
    let paragraph_ends = |i: usize| {
        bytes[i] == b'\n'
            && bytes[i + 1..]
                .iter()
                .find(|&&b| b != b' ' && b != b'\t')
                .is_none_or(|&b| b == b'\n')
    };
    let mut blank = vec![false; bytes.len()];
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let n = run_at(i);
        let mut j = i + n;
        let mut close = None;
        while j < bytes.len() && !paragraph_ends(j) {
            if bytes[j] == b'`' {
                let m = run_at(j);
                if m == n {
                    close = Some(j + m);
                    break;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => {
                blank[i..end].iter_mut().for_each(|b| *b = true);
                i = end;
            }
            None => i += n,
        }
    }
    text.char_indices()
        .map(|(at, c)| if blank[at] && c != '\n' { ' ' } else { c })
        .collect()
}

/// The target of an inline link that starts at `rest` (just after `](`): up to the
/// closing parenthesis, balanced, or between angle brackets; without a title.
fn inline_target(rest: &str) -> Option<&str> {
    let rest = rest.trim_start();
    if let Some(inner) = rest.strip_prefix('<') {
        return inner.find('>').map(|end| &inner[..end]);
    }
    let mut depth = 0usize;
    for (at, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(&rest[..at]),
            ')' => depth -= 1,
            c if c.is_whitespace() => return Some(&rest[..at]),
            _ => {}
        }
    }
    None
}

/// Where the parenthesis that closes an inline link's `(` is in `text` (which starts
/// just after it): the first `)` outside nested parentheses.
fn closing_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(at),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Every link in a Markdown document, outside code.
fn links(text: &str) -> Vec<Link> {
    let prose = without_code_spans(&without_code_blocks(text));
    let line_of = |at: usize| prose[..at].matches('\n').count() + 1;
    let mut found = Vec::new();
    for (at, _) in prose.match_indices("](") {
        if let Some(target) = inline_target(&prose[at + 2..]) {
            found.push(Link {
                line: line_of(at),
                target: target.to_owned(),
            });
        }
    }
    for (index, line) in prose.lines().enumerate() {
        let trimmed = line.trim_start();
        if line.len() - trimmed.len() > 3 || !trimmed.starts_with('[') {
            continue;
        }
        if let Some(end) = trimmed.find("]:")
            && let Some(target) = trimmed[end + 2..].split_whitespace().next()
        {
            found.push(Link {
                line: index + 1,
                target: target.trim_matches(['<', '>']).to_owned(),
            });
        }
    }
    found.sort_by_key(|link| link.line);
    found
}

/// GitHub's anchor for a heading's text: inline link targets dropped, lower-cased,
/// every character but letters, digits, `_`, `-` and spaces removed, spaces made
/// hyphens.
fn slug(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    while let Some(at) = rest.find("](") {
        text.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        rest = closing_paren(after).map_or(after, |end| &after[end + 1..]);
    }
    text.push_str(rest);
    text.to_lowercase()
        .chars()
        .filter(|&c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown document's ATX headings; a repeated anchor gets `-1`,
/// `-2`, … as on GitHub.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for line in without_code_blocks(text).lines() {
        let trimmed = line.trim_start_matches(' ');
        if line.len() - trimmed.len() > 3 {
            continue;
        }
        let level = trimmed.chars().take_while(|&c| c == '#').count();
        let title = &trimmed[level..];
        if !(1..=6).contains(&level) || !(title.is_empty() || title.starts_with([' ', '\t'])) {
            continue;
        }
        // A closing sequence of `#`s is not part of the title.
        let title = title.trim();
        let title = match title.trim_end_matches('#') {
            kept if kept.is_empty() || kept.ends_with([' ', '\t']) => kept.trim_end(),
            _ => title,
        };
        let base = slug(title);
        let count = seen.entry(base.clone()).or_insert(0);
        out.insert(match *count {
            0 => base,
            n => format!("{base}-{n}"),
        });
        *count += 1;
    }
    out
}

/// `%XX` escapes decoded; anything malformed is kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `path` with `.` and `..` resolved, or `None` when it climbs out of the root.
fn normalise(path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// Whether a target names something outside the repository by scheme (`https:`,
/// `mailto:`, …): a colon before any `/`, `#` or `?`.
fn is_external(target: &str) -> bool {
    let head = target.split(['/', '#', '?']).next().unwrap_or_default();
    head.contains(':')
}

/// Every link of the document `file` that does not resolve in `tree`.
fn check_document(tree: &dyn Tree, file: &Path) -> Vec<Broken> {
    let Some(text) = tree.read(file) else {
        return vec![Broken {
            file: file.to_owned(),
            line: 0,
            target: String::new(),
            reason: "cannot be read".to_owned(),
        }];
    };
    let dir = file.parent().unwrap_or(Path::new(""));
    let mut broken = Vec::new();
    for link in links(&text) {
        let mut fail = |reason: String| {
            broken.push(Broken {
                file: file.to_owned(),
                line: link.line,
                target: link.target.clone(),
                reason,
            });
        };
        if link.target.is_empty() {
            fail("empty target".to_owned());
            continue;
        }
        if is_external(&link.target) {
            continue;
        }
        let (path, fragment) = match link.target.split_once('#') {
            Some((path, fragment)) => (path, Some(percent_decode(fragment))),
            None => (link.target.as_str(), None),
        };
        let path = percent_decode(path.split('?').next().unwrap_or_default());
        let target = if path.is_empty() {
            file.to_owned()
        } else if path.starts_with('/') {
            fail("an absolute path: write it relative to this file".to_owned());
            continue;
        } else {
            match normalise(&dir.join(&path)) {
                Some(target) => target,
                None => {
                    fail("leaves the repository".to_owned());
                    continue;
                }
            }
        };
        if !tree.exists(&target) {
            fail(format!("{} does not exist", target.display()));
            continue;
        }
        let Some(fragment) = fragment else { continue };
        if target.extension().is_none_or(|ext| ext != "md") {
            // A fragment into source is a line (`#L10`) GitHub resolves; not checked.
            continue;
        }
        match tree.read(&target) {
            Some(text) if anchors(&text).contains(&fragment) => {}
            Some(_) => fail(format!("{} has no heading #{fragment}", target.display())),
            None => fail(format!("{} cannot be read", target.display())),
        }
    }
    broken
}

/// The documents whose links are checked: `README.md`, `ARCHITECTURE.md` and every
/// `.md` file under `docs/`, sorted.
fn documents(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.join(dir).display()));
        for entry in entries {
            let entry = entry.expect("a directory entry");
            let path = dir.join(entry.file_name());
            if entry.file_type().expect("a file type").is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                out.push(path);
            }
        }
    }
    let mut out: Vec<PathBuf> = TOP_LEVEL_DOCUMENTS.iter().map(PathBuf::from).collect();
    walk(root, Path::new("docs"), &mut out);
    out.sort();
    out
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tree = Disk { root: root.clone() };
    let documents = documents(&root);
    assert!(
        documents.iter().any(|d| d.starts_with("docs")),
        "no guide pages found under docs/"
    );
    let total: usize = documents
        .iter()
        .filter_map(|d| tree.read(d))
        .map(|text| links(&text).len())
        .sum();
    assert!(total > 0, "no links found: the checker reads nothing");
    let broken: Vec<Broken> = documents
        .iter()
        .flat_map(|d| check_document(&tree, d))
        .collect();
    let report: Vec<String> = broken.iter().map(ToString::to_string).collect();
    assert!(
        broken.is_empty(),
        "{} broken links:\n{}",
        broken.len(),
        report.join("\n")
    );
}

/// The checker's own tests, on documents in memory.
mod checker {
    use super::*;

    /// Files in memory; a directory exists when a file is under it.
    struct Memory(BTreeMap<PathBuf, String>);

    impl Memory {
        fn new(files: &[(&str, &str)]) -> Self {
            Memory(
                files
                    .iter()
                    .map(|(path, text)| (PathBuf::from(path), (*text).to_owned()))
                    .collect(),
            )
        }
    }

    impl Tree for Memory {
        fn exists(&self, path: &Path) -> bool {
            path.as_os_str().is_empty() || self.0.keys().any(|file| file.starts_with(path))
        }

        fn read(&self, path: &Path) -> Option<String> {
            self.0.get(path).cloned()
        }
    }

    fn problems(files: &[(&str, &str)], document: &str) -> Vec<String> {
        check_document(&Memory::new(files), Path::new(document))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_link_to_a_missing_file_is_reported_with_its_line() {
        let readme = "# Title\n\nSee [the guide](docs/guide.md) and\n[the plan](docs/plan.md).\n";
        assert_eq!(
            problems(
                &[("README.md", readme), ("docs/guide.md", "# Guide\n")],
                "README.md"
            ),
            ["README.md:4: (docs/plan.md) docs/plan.md does not exist"]
        );
    }

    #[test]
    fn links_resolve_from_the_documents_directory_and_to_directories() {
        let page = "[up](../README.md), [crate](../crates/core), [self](#top), [img](../a%20b.svg)\n\n# Top\n";
        let files = [
            ("README.md", ""),
            ("docs/page.md", page),
            ("crates/core/src/lib.rs", ""),
            ("a b.svg", ""),
        ];
        assert_eq!(problems(&files, "docs/page.md"), Vec::<String>::new());
    }

    #[test]
    fn a_fragment_must_name_a_heading_of_the_target() {
        let guide =
            "# Guide\n\n## The plan document (`deploy plan --json`)\n\n## Notes\n\n## Notes\n";
        let readme = "[a](guide.md#the-plan-document-deploy-plan---json) [b](guide.md#notes-1)\n\
                      [c](guide.md#the-plan-document) [d](#nowhere)\n";
        assert_eq!(
            problems(&[("README.md", readme), ("guide.md", guide)], "README.md"),
            [
                "README.md:2: (guide.md#the-plan-document) guide.md has no heading #the-plan-document",
                "README.md:2: (#nowhere) README.md has no heading #nowhere",
            ]
        );
    }

    #[test]
    fn code_holds_no_links() {
        let readme = "```rust\nlet x = a[0](b);\n```\n\n~~~~\n[x](missing.md)\n~~~~\n\n\
                      Inline `[x](missing.md)` and ``a `[y](gone.md)` b``, across\n`lines [z](lost.md)\nstill code` too.\n";
        assert_eq!(
            problems(&[("README.md", readme)], "README.md"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_unclosed_backtick_does_not_hide_the_next_paragraphs_links() {
        let readme = "A lone ` backtick.\n\nThen [a link](missing.md) and a closing `.\n";
        assert_eq!(
            problems(&[("README.md", readme)], "README.md"),
            ["README.md:3: (missing.md) missing.md does not exist"]
        );
    }

    #[test]
    fn external_links_are_not_followed_and_escapes_are_reported() {
        let readme = "[a](https://example.org/x.md) [b](mailto:x@example.org) \
                      [c](../outside.md) [d](/abs.md)\n\n[ref]: ../../up.md\n";
        assert_eq!(
            problems(&[("README.md", readme)], "README.md"),
            [
                "README.md:1: (../outside.md) leaves the repository",
                "README.md:1: (/abs.md) an absolute path: write it relative to this file",
                "README.md:3: (../../up.md) leaves the repository",
            ]
        );
    }

    #[test]
    fn anchors_are_githubs_slugs() {
        let text = "# The `cpg` Pulumi provider (`pulumi-resource-cpg`)\n\
                    ## Adopting a stack — step by step ##\n\
                    ### [Linked](x.md) heading_with_underscores\n\
                    #### Moving the dynamic resources (`migrate-state`)\n\
                    #not a heading\n\
                    ```\n# not a heading either\n```\n";
        assert_eq!(
            anchors(text),
            BTreeSet::from([
                "the-cpg-pulumi-provider-pulumi-resource-cpg".to_owned(),
                "adopting-a-stack--step-by-step".to_owned(),
                "linked-heading_with_underscores".to_owned(),
                "moving-the-dynamic-resources-migrate-state".to_owned(),
            ])
        );
    }
}
