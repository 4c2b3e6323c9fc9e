//! The book never drifts from the code: every lab has a chapter that shows its picture
//! and its run (both written by `cargo lab dev`), Rust code comes into it only through
//! `{{#include}}`, and every include and link points at something that exists.
//!
//! mdBook itself only logs a missing include and renders a missing anchor as nothing
//! (`just book` fails on the log); these tests catch both, and broken links, without
//! mdBook installed.

use leaklab_registry::{LABS, Lab};
use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
use std::path::{Path, PathBuf};

fn book() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src")
}

/// Every Markdown page of the book in `src`, with its text.
fn pages(src: &Path) -> Vec<(PathBuf, String)> {
    let mut pages = Vec::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)
            .expect("book/src is readable")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&path).expect("a page is readable");
                pages.push((path, text));
            }
        }
    }
    pages.sort();
    assert!(!pages.is_empty(), "no pages found in {}", src.display());
    pages
}

fn name(path: &Path) -> String {
    let root = book().join("../..");
    let root = root.canonicalize().unwrap_or(root);
    path.strip_prefix(&root).unwrap_or(path).display().to_string()
}

/// A fenced code block: its info string (`rust,ignore`), its text, and its first line.
struct Block {
    info: String,
    text: String,
    line: usize,
}

fn code_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (event, range) in Parser::new(text).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                let line = text[..range.start].lines().count() + 1;
                open = Some(Block {
                    info,
                    text: String::new(),
                    line,
                });
            }
            Event::Text(body) => {
                if let Some(block) = open.as_mut() {
                    block.text.push_str(&body);
                }
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(open.take()),
            _ => {}
        }
    }
    blocks
}

/// The `{{#include path}}` directives of a page (any `{{#...include ...}}`), as
/// (path, anchor or line range).
fn includes(text: &str) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{#") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let directive = &after[..end];
        rest = &after[end..];
        let mut words = directive.split_whitespace();
        let (Some(kind), Some(target)) = (words.next(), words.next()) else {
            continue;
        };
        if !kind.ends_with("include") {
            continue;
        }
        match target.split_once(':') {
            Some((path, anchor)) => found.push((path.to_owned(), Some(anchor.to_owned()))),
            None => found.push((target.to_owned(), None)),
        }
    }
    found
}

/// The link and image targets of a page, outside code.
fn links(text: &str) -> Vec<String> {
    Parser::new(text)
        .filter_map(|event| match event {
            Event::Start(Tag::Link { dest_url, .. }) | Event::Start(Tag::Image { dest_url, .. }) => {
                Some(dest_url.to_string())
            }
            _ => None,
        })
        .collect()
}

/// Each of `labs` without a chapter in `src`, or whose chapter does not show its
/// picture and its run.
fn chapter_problems(src: &Path, labs: &[Lab]) -> Vec<String> {
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).unwrap_or_default();
    let mut problems = Vec::new();
    for lab in labs {
        let page = format!("{}.md", lab.module());
        let Ok(text) = std::fs::read_to_string(src.join(&page)) else {
            problems.push(format!(
                "lab {} has no chapter: book/src/{page} is missing",
                lab.number
            ));
            continue;
        };
        if !summary.contains(&format!("({page})")) {
            problems.push(format!("lab {}: SUMMARY.md does not list {page}", lab.number));
        }
        let picture = format!("generated/{}.svg", lab.module());
        let run = format!("generated/{}-run.txt", lab.module());
        if !links(&text).contains(&picture) {
            problems.push(format!(
                "lab {}: book/src/{page} does not show {picture}",
                lab.number
            ));
        }
        if !includes(&text).iter().any(|(path, _)| *path == run) {
            problems.push(format!(
                "lab {}: book/src/{page} does not include its run ({{{{#include {run}}}}})",
                lab.number
            ));
        }
        for generated in [&picture, &run] {
            if !src.join(generated).is_file() {
                problems.push(format!(
                    "lab {}: book/src/{generated} is missing: run `cargo lab dev`",
                    lab.number
                ));
            }
        }
    }
    problems
}

#[test]
fn every_lab_has_a_chapter_that_shows_its_picture_and_its_run() {
    let problems = chapter_problems(&book(), LABS);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Whether a code block holds nothing but include directives (and blank lines).
fn only_includes(block: &Block) -> bool {
    block
        .text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .all(|line| line.starts_with("{{#") && line.ends_with("}}") && includes(line).len() == 1)
}

/// Every Rust code block in `src` that is not made of includes.
fn typed_rust(src: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, text) in pages(src) {
        for block in code_blocks(&text) {
            let language = block.info.split([',', ' ']).next().unwrap_or_default();
            if language == "rust" && !only_includes(&block) {
                problems.push(format!(
                    "{}:{}: a ```{} block typed by hand; include it from the file it comes from \
                     ({{{{#include ../../labs/...:anchor}}}} and `// ANCHOR: name` there)",
                    name(&path),
                    block.line,
                    block.info
                ));
            }
        }
    }
    problems
}

#[test]
fn rust_in_the_book_is_included_from_compiled_files_never_typed() {
    let problems = typed_rust(&book());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every include in `src` whose file or anchor is missing, and how many there are.
fn include_problems(src: &Path) -> (Vec<String>, usize) {
    let mut problems = Vec::new();
    let mut seen = 0;
    for (path, text) in pages(src) {
        let folder = path.parent().expect("a page is in a folder");
        for (target, anchor) in includes(&text) {
            seen += 1;
            let file = folder.join(&target);
            let Ok(source) = std::fs::read_to_string(&file) else {
                problems.push(format!(
                    "{}: {{{{#include {target}}}}}: no such file",
                    name(&path)
                ));
                continue;
            };
            // A line range (`:10:20`, `:10:`) needs no marker; a name does.
            let Some(anchor) = anchor.filter(|a| !a.starts_with(|c: char| c.is_ascii_digit() || c == ':'))
            else {
                continue;
            };
            let has = |marker: &str| {
                source.lines().any(|line| {
                    let line = line.trim_start();
                    line.contains(&format!("{marker}: {anchor}")) && line.trim_end().ends_with(&anchor)
                })
            };
            if !has("ANCHOR") || !has("ANCHOR_END") {
                problems.push(format!(
                    "{}: {{{{#include {target}:{anchor}}}}}: {} has no `// ANCHOR: {anchor}` ... \
                     `// ANCHOR_END: {anchor}` (mdBook would show nothing)",
                    name(&path),
                    name(&file)
                ));
            }
        }
    }
    (problems, seen)
}

#[test]
fn every_include_points_at_a_file_and_an_anchor_that_exist() {
    let (problems, seen) = include_problems(&book());
    assert!(seen > 0, "the book includes nothing: is this the right folder?");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every link or image in `src` to a file that does not exist.
fn link_problems(src: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, text) in pages(src) {
        let folder = path.parent().expect("a page is in a folder");
        for target in links(&text) {
            let external = ["http://", "https://", "mailto:"]
                .iter()
                .any(|p| target.starts_with(p));
            let file = target.split('#').next().unwrap_or_default();
            if external || file.is_empty() {
                continue;
            }
            if !folder.join(file).exists() {
                problems.push(format!(
                    "{}: a link to {target}, which does not exist",
                    name(&path)
                ));
            }
        }
    }
    problems
}

#[test]
fn every_link_in_the_book_leads_somewhere() {
    let problems = link_problems(&book());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A book with one of each fault: each check must name its own.
#[test]
fn each_check_finds_the_fault_it_is_for() {
    let src = std::env::temp_dir().join(format!("leaklab-book-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&src);
    std::fs::create_dir_all(src.join("generated")).expect("a temporary book");
    let write = |file: &str, text: &str| std::fs::write(src.join(file), text).expect("write");
    write("SUMMARY.md", "# Summary\n\n- [Lab 1](lab01.md)\n");
    write(
        "code.rs",
        "// ANCHOR: shown\nfn shown() {}\n// ANCHOR_END: shown\n",
    );
    write("generated/lab01-run.txt", "$ cargo lab 1\n");
    write(
        "lab01.md",
        "# Lab 1\n\n```rust\n{{#include code.rs:shown}}\n```\n\n```rust\nfn typed() {}\n```\n\n\
         ```rust\n{{#include code.rs:gone}}\n```\n\n```text\n{{#include generated/lab01-run.txt}}\n```\n\n\
         ```text\n{{#include missing.txt}}\n```\n\n[next](lab02.md) ![picture](generated/lab01.svg)\n",
    );
    let labs = &LABS[..1];
    let chapters = chapter_problems(&src, labs);
    let typed = typed_rust(&src);
    let (includes, seen) = include_problems(&src);
    let links = link_problems(&src);
    let _ = std::fs::remove_dir_all(&src);

    // The chapter shows its picture, but the picture was never generated.
    assert_eq!(chapters.len(), 1, "{chapters:?}");
    assert!(
        chapters[0].contains("generated/lab01.svg is missing"),
        "{chapters:?}"
    );
    assert_eq!(typed.len(), 1, "{typed:?}");
    assert!(typed[0].contains("lab01.md:7"), "{typed:?}");
    assert_eq!(seen, 4);
    assert_eq!(includes.len(), 2, "{includes:?}");
    assert!(includes[0].contains("code.rs:gone") && includes[0].contains("ANCHOR: gone"));
    assert!(includes[1].contains("missing.txt") && includes[1].contains("no such file"));
    assert_eq!(links.len(), 2, "{links:?}");
    assert!(links[0].contains("lab02.md") && links[1].contains("generated/lab01.svg"));
}

#[test]
fn the_checks_see_what_they_look_for() {
    let page = "# A\n\n```rust,ignore\n{{#include ../../labs/a.rs:fetch}}\n```\n\n```rust\nfn typed() {}\n```\n\n\
                ```go\nfunc main() {}\n```\n\n![p](generated/lab01.svg) [t](lab02.md#see-it) `[no](code.md)`\n";
    let blocks = code_blocks(page);
    assert_eq!(blocks.len(), 3);
    assert!(only_includes(&blocks[0]));
    assert!(!only_includes(&blocks[1]), "a typed block is not an include");
    assert_eq!(blocks[1].line, 7);
    assert_eq!(
        includes(page),
        vec![("../../labs/a.rs".to_owned(), Some("fetch".to_owned()))]
    );
    assert_eq!(links(page), vec!["generated/lab01.svg", "lab02.md#see-it"]);
}
