//! Checking a plugin library before the system loader maps it.
//!
//! The system loader maps a library's segments straight from the file; a segment
//! that lies past the end of a truncated file is mapped all the same, and the first
//! touch of it kills the process with `SIGBUS`, with no message. So before a library
//! is opened, its ELF header is read and checked by hand: an ELF file of this
//! machine's class, byte order and architecture, a shared object, its program
//! headers, loadable segments and section headers all within the file.
//!
//! Only the header and the program headers are read (a few kilobytes), never the
//! whole library.

use std::io::{Read, Seek, SeekFrom};

/// An ELF file's shared-object type.
const ET_DYN: u16 = 3;
/// A loadable segment.
const PT_LOAD: u32 = 1;
/// The dynamic-linking segment.
const PT_DYNAMIC: u32 = 2;

/// What a library file is not, to be loadable here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ElfProblem {
    /// Not an ELF file at all: the system loader reads its first bytes and refuses
    /// it with its own message, without mapping anything.
    NotElf,
    /// An ELF file that is not a complete one.
    Malformed(String),
    /// An ELF file for another class, byte order or machine.
    Architecture {
        /// What the file is for.
        found: String,
        /// What this host runs.
        expected: String,
    },
}

/// This host's ELF class (1: 32-bit, 2: 64-bit), byte order (1: little, 2: big)
/// and machine number, where known.
fn host() -> (u8, u8, Option<u16>) {
    let class = if cfg!(target_pointer_width = "64") {
        2
    } else {
        1
    };
    let data = if cfg!(target_endian = "little") { 1 } else { 2 };
    let machine = match std::env::consts::ARCH {
        "x86" => Some(3),
        "mips" | "mips64" => Some(8),
        "powerpc" => Some(20),
        "powerpc64" => Some(21),
        "s390x" => Some(22),
        "arm" => Some(40),
        "x86_64" => Some(62),
        "aarch64" => Some(183),
        "riscv32" | "riscv64" => Some(243),
        "loongarch64" => Some(258),
        _ => None,
    };
    (class, data, machine)
}

fn machine_name(machine: u16) -> String {
    match machine {
        3 => "x86".into(),
        8 => "MIPS".into(),
        20 => "PowerPC".into(),
        21 => "PowerPC64".into(),
        22 => "s390x".into(),
        40 => "ARM".into(),
        62 => "x86-64".into(),
        183 => "AArch64".into(),
        243 => "RISC-V".into(),
        258 => "LoongArch".into(),
        other => format!("machine {other}"),
    }
}

fn describe(class: u8, data: u8, machine: Option<u16>) -> String {
    let bits = match class {
        1 => "32-bit",
        2 => "64-bit",
        _ => "unknown-class",
    };
    let order = match data {
        1 => "little-endian",
        2 => "big-endian",
        _ => "unknown-byte-order",
    };
    let machine = machine.map_or_else(|| std::env::consts::ARCH.to_owned(), machine_name);
    format!("{bits} {order} {machine}")
}

/// Reads integers of the file's byte order and class.
struct Fields<'a> {
    bytes: &'a [u8],
    big: bool,
    wide: bool,
}

impl Fields<'_> {
    fn u16(&self, at: usize) -> u16 {
        let b = [self.bytes[at], self.bytes[at + 1]];
        if self.big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }

    fn u32(&self, at: usize) -> u32 {
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.bytes[at..at + 4]);
        if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    fn u64(&self, at: usize) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.bytes[at..at + 8]);
        if self.big {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        }
    }

    /// An address or offset: 8 bytes in a 64-bit file, 4 in a 32-bit one.
    fn word(&self, at: usize) -> u64 {
        if self.wide {
            self.u64(at)
        } else {
            u64::from(self.u32(at))
        }
    }
}

fn malformed(message: impl Into<String>) -> ElfProblem {
    ElfProblem::Malformed(message.into())
}

/// Whether `start..start + size` lies within a file of `len` bytes.
fn within(start: u64, size: u64, len: u64) -> bool {
    start.checked_add(size).is_some_and(|end| end <= len)
}

fn truncated(what: &str, start: u64, size: u64, len: u64) -> ElfProblem {
    malformed(format!(
        "{what} (bytes {start}–{}) lie past the end of the {len}-byte file: it is truncated",
        start.saturating_add(size)
    ))
}

/// Checks that `file` (of `len` bytes) is a complete ELF shared object for this
/// host.
pub(crate) fn check(file: &mut (impl Read + Seek), len: u64) -> Result<(), ElfProblem> {
    let mut header = [0u8; 64];
    let read = read_up_to(file, 0, &mut header)?;
    let header = &header[..read];
    if header.len() < 4 || header[..4] != *b"\x7fELF" {
        return Err(ElfProblem::NotElf);
    }
    if header.len() < 20 {
        return Err(malformed(format!(
            "its ELF header is cut off after {} bytes: it is truncated",
            header.len()
        )));
    }
    let (class, data) = (header[4], header[5]);
    let big = data == 2;
    let fields = Fields {
        bytes: header,
        big,
        wide: class == 2,
    };
    let machine = fields.u16(18);
    let (host_class, host_data, host_machine) = host();
    if class != host_class || data != host_data || host_machine.is_some_and(|m| m != machine) {
        return Err(ElfProblem::Architecture {
            found: describe(class, data, Some(machine)),
            expected: describe(host_class, host_data, host_machine),
        });
    }
    let header_size = if class == 2 { 64 } else { 52 };
    if header.len() < header_size {
        return Err(malformed(format!(
            "its ELF header is cut off after {} of {header_size} bytes: it is truncated",
            header.len()
        )));
    }
    let kind = fields.u16(16);
    if kind != ET_DYN {
        let name = match kind {
            0 => "an ELF file of no type".to_owned(),
            1 => "an ELF relocatable object (.o)".to_owned(),
            2 => "an ELF executable".to_owned(),
            4 => "an ELF core dump".to_owned(),
            other => format!("an ELF file of type {other}"),
        };
        return Err(malformed(format!("{name}, not a shared object")));
    }
    let wide = class == 2;
    let (ph_offset, sh_offset) = if wide {
        (fields.word(32), fields.word(40))
    } else {
        (fields.word(28), fields.word(32))
    };
    let at = if wide { 54 } else { 42 };
    let (ph_entry, ph_count) = (fields.u16(at), fields.u16(at + 2));
    let (sh_entry, sh_count) = (fields.u16(at + 4), fields.u16(at + 6));
    let ph_size_wanted = if wide { 56 } else { 32 };
    if ph_count == 0 || usize::from(ph_entry) != ph_size_wanted {
        return Err(malformed(format!(
            "its ELF header gives {ph_count} program headers of {ph_entry} bytes (expected {ph_size_wanted}-byte headers)"
        )));
    }
    let table_size = u64::from(ph_entry) * u64::from(ph_count);
    if !within(ph_offset, table_size, len) {
        return Err(truncated("its program headers", ph_offset, table_size, len));
    }
    if sh_offset != 0 {
        let sections = u64::from(sh_entry) * u64::from(sh_count);
        if !within(sh_offset, sections, len) {
            return Err(truncated("its section headers", sh_offset, sections, len));
        }
    }
    let size = usize::try_from(table_size).map_err(|_| malformed("too many program headers"))?;
    let mut table = vec![0u8; size];
    if read_up_to(file, ph_offset, &mut table)? != size {
        return Err(truncated("its program headers", ph_offset, table_size, len));
    }
    let table = Fields {
        bytes: &table,
        big,
        wide,
    };
    let mut loads = 0;
    for index in 0..usize::from(ph_count) {
        let entry = index * ph_size_wanted;
        let kind = table.u32(entry);
        let (offset, file_size) = if wide {
            (table.u64(entry + 8), table.u64(entry + 32))
        } else {
            (
                u64::from(table.u32(entry + 4)),
                u64::from(table.u32(entry + 16)),
            )
        };
        if kind == PT_LOAD || kind == PT_DYNAMIC {
            loads += usize::from(kind == PT_LOAD);
            if !within(offset, file_size, len) {
                let what = format!(
                    "its {} segment {index}",
                    if kind == PT_LOAD {
                        "loadable"
                    } else {
                        "dynamic"
                    }
                );
                return Err(truncated(&what, offset, file_size, len));
            }
        }
    }
    if loads == 0 {
        return Err(malformed("it has no loadable segment"));
    }
    Ok(())
}

/// Reads from `offset` into `buffer` until it is full or the file ends; the number
/// of bytes read.
fn read_up_to(
    file: &mut (impl Read + Seek),
    offset: u64,
    buffer: &mut [u8],
) -> Result<usize, ElfProblem> {
    let failed = |e: std::io::Error| malformed(format!("cannot read it: {e}"));
    file.seek(SeekFrom::Start(offset)).map_err(failed)?;
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(failed(e)),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A minimal shared object for this host: a header, one program header, one
    /// loadable segment of `segment` bytes at offset 4096.
    fn library(segment: u64) -> Vec<u8> {
        let (class, data, machine) = host();
        let wide = class == 2;
        let big = data == 2;
        let mut bytes = vec![0u8; 4096];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = class;
        bytes[5] = data;
        bytes[6] = 1;
        let put16 = |bytes: &mut Vec<u8>, at: usize, v: u16| {
            let b = if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            bytes[at..at + 2].copy_from_slice(&b);
        };
        let put32 = |bytes: &mut Vec<u8>, at: usize, v: u32| {
            let b = if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            bytes[at..at + 4].copy_from_slice(&b);
        };
        let put64 = |bytes: &mut Vec<u8>, at: usize, v: u64| {
            let b = if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            bytes[at..at + 8].copy_from_slice(&b);
        };
        put16(&mut bytes, 16, ET_DYN);
        put16(&mut bytes, 18, machine.unwrap_or(62));
        if wide {
            put64(&mut bytes, 32, 64);
            put16(&mut bytes, 54, 56);
            put16(&mut bytes, 56, 1);
            put32(&mut bytes, 64, PT_LOAD);
            put64(&mut bytes, 64 + 8, 4096);
            put64(&mut bytes, 64 + 32, segment);
        } else {
            put32(&mut bytes, 28, 52);
            put16(&mut bytes, 42, 32);
            put16(&mut bytes, 44, 1);
            put32(&mut bytes, 52, PT_LOAD);
            put32(&mut bytes, 52 + 4, 4096);
            put32(&mut bytes, 52 + 16, segment as u32);
        }
        bytes.resize(4096 + segment as usize, 0xcc);
        bytes
    }

    fn check_bytes(bytes: &[u8]) -> Result<(), ElfProblem> {
        check(&mut Cursor::new(bytes), bytes.len() as u64)
    }

    #[test]
    fn a_complete_library_passes() {
        assert_eq!(check_bytes(&library(100)), Ok(()));
    }

    #[test]
    fn a_truncated_segment_is_refused_before_mapping() {
        let bytes = library(10_000);
        let problem = check_bytes(&bytes[..6000]).expect_err("truncated");
        let ElfProblem::Malformed(message) = problem else {
            panic!("{problem:?}")
        };
        assert!(message.contains("loadable segment 0"), "{message}");
        assert!(message.contains("truncated"), "{message}");
    }

    #[test]
    fn a_cut_header_or_program_table_is_refused() {
        let bytes = library(100);
        assert_eq!(check_bytes(&bytes[..3]), Err(ElfProblem::NotElf));
        for cut in [4, 10, 30, 60] {
            assert!(
                matches!(check_bytes(&bytes[..cut]), Err(ElfProblem::Malformed(_))),
                "{cut}"
            );
        }
    }

    #[test]
    fn text_is_not_elf() {
        assert_eq!(
            check_bytes(b"#!/bin/sh\necho hi\n"),
            Err(ElfProblem::NotElf)
        );
    }

    #[test]
    fn another_architecture_is_named() {
        let mut bytes = library(100);
        bytes[18] ^= 0x55;
        bytes[19] ^= 0x01;
        assert!(matches!(
            check_bytes(&bytes),
            Err(ElfProblem::Architecture { .. })
        ));
        let mut other_class = library(100);
        other_class[4] = if other_class[4] == 2 { 1 } else { 2 };
        assert!(matches!(
            check_bytes(&other_class),
            Err(ElfProblem::Architecture { .. })
        ));
    }

    #[test]
    fn an_executable_is_not_a_shared_object() {
        let mut bytes = library(100);
        let big = bytes[5] == 2;
        let at = if big { 17 } else { 16 };
        bytes[at] = 2;
        let Err(ElfProblem::Malformed(message)) = check_bytes(&bytes) else {
            panic!("an executable passed")
        };
        assert!(message.contains("executable"), "{message}");
    }
}
