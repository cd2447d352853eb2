//! The journal: the output JSONL file itself, appended and flushed after
//! every finished record, and read back on resume.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::Error;

/// An output file being appended to.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    path: PathBuf,
    sync: bool,
}

fn file_error(path: &Path, source: io::Error) -> Error {
    Error::File {
        path: path.to_path_buf(),
        source,
    }
}

impl Journal {
    /// Opens `path`: when `resume`, keeps its complete lines and returns
    /// their record ids (a torn last line, from a process killed mid-write,
    /// is cut off); otherwise starts it empty.
    pub(crate) fn open(
        path: &Path,
        resume: bool,
        sync: bool,
    ) -> Result<(Journal, HashSet<String>), Error> {
        let err = |e| file_error(path, e);
        let mut done = HashSet::new();
        let file = if resume {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(err)?;
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map_err(err)?;
            let keep = scan(&bytes, &mut done).map_err(err)?;
            if keep < bytes.len() {
                log::warn!(
                    "{}: cutting off a torn last line ({} bytes)",
                    path.display(),
                    bytes.len() - keep
                );
                file.set_len(keep as u64).map_err(err)?;
            }
            file.seek(SeekFrom::End(0)).map_err(err)?;
            file
        } else {
            File::create(path).map_err(err)?
        };
        let journal = Journal {
            file,
            path: path.to_path_buf(),
            sync,
        };
        Ok((journal, done))
    }

    /// Appends one line and flushes it to the file (and to the disk, with
    /// `sync`).
    pub(crate) fn append(&mut self, line: &str) -> Result<(), Error> {
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        let result = self.file.write_all(&buf).and_then(|()| self.file.flush());
        let result = result.and_then(|()| {
            if self.sync {
                self.file.sync_data()
            } else {
                Ok(())
            }
        });
        result.map_err(|e| file_error(&self.path, e))
    }
}

/// Collects the record ids of the complete lines of `bytes` into `done` and
/// returns the length to keep: everything but a torn last line (one with no
/// newline, or not JSON). A bad line before the last is an error.
fn scan(bytes: &[u8], done: &mut HashSet<String>) -> io::Result<usize> {
    let mut keep = 0;
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            break; // torn: no newline
        };
        let line = &rest[..end];
        rest = &rest[end + 1..];
        if line.iter().all(u8::is_ascii_whitespace) {
            keep += end + 1;
            continue;
        }
        let id = serde_json::from_slice::<Value>(line)
            .ok()
            .and_then(|v| v.get("recordId").and_then(Value::as_str).map(str::to_owned));
        match id {
            Some(id) => {
                done.insert(id);
                keep += end + 1;
            }
            None if rest.is_empty() => break, // torn last line
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("line at byte {keep} is not an output record; not resuming over it"),
                ))
            }
        }
    }
    Ok(keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torn_last_line_is_cut() {
        let text = b"{\"recordId\":\"a\"}\n{\"recordId\":\"b\"}\n{\"recordId\":\"c\", \"mod";
        let mut done = HashSet::new();
        let keep = scan(text, &mut done).unwrap();
        assert_eq!(keep, 34);
        assert_eq!(done.len(), 2);
        assert!(done.contains("a") && done.contains("b"));
    }

    #[test]
    fn complete_but_bad_last_line_is_cut_and_bad_middle_line_is_an_error() {
        let mut done = HashSet::new();
        assert_eq!(
            scan(b"{\"recordId\":\"a\"}\n{\"rec\n", &mut done).unwrap(),
            17
        );
        assert!(scan(b"garbage\n{\"recordId\":\"a\"}\n", &mut done).is_err());
    }

    #[test]
    fn resume_truncates_the_file() {
        let dir = std::env::temp_dir().join(format!("bc-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.jsonl");
        std::fs::write(&path, "{\"recordId\":\"a\"}\n{\"recordId\":\"b").unwrap();
        let (mut journal, done) = Journal::open(&path, true, false).unwrap();
        assert_eq!(done.len(), 1);
        journal.append("{\"recordId\":\"b\"}").unwrap();
        drop(journal);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\"recordId\":\"a\"}\n{\"recordId\":\"b\"}\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn blank_lines_are_kept_and_skipped_wherever_they_stand() {
        let mut done = HashSet::new();
        let text = b"\n  \n{\"recordId\":\"a\"}\n\t\r\n{\"recordId\":\"b\"}\n\n";
        assert_eq!(scan(text, &mut done).unwrap(), text.len());
        assert_eq!(done, HashSet::from(["a".to_owned(), "b".to_owned()]));

        // A blank line then a torn one: the blank line is kept, the torn one cut.
        let mut done = HashSet::new();
        assert_eq!(
            scan(b"{\"recordId\":\"a\"}\n\n{\"rec", &mut done).unwrap(),
            18
        );
        assert_eq!(done.len(), 1);
    }

    #[test]
    fn a_record_without_a_string_id_before_the_last_line_is_an_error() {
        for bad in [&b"{\"id\":\"a\"}\n"[..], b"{\"recordId\":7}\n", b"[]\n"] {
            let mut text = bad.to_vec();
            text.extend_from_slice(b"{\"recordId\":\"b\"}\n");
            let err = scan(&text, &mut HashSet::new()).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        }
    }

    #[test]
    fn an_empty_or_intact_file_is_kept_whole() {
        let mut done = HashSet::new();
        assert_eq!(scan(b"", &mut done).unwrap(), 0);
        assert!(done.is_empty());
        let text = b"{\"recordId\":\"a\"}\n{\"recordId\":\"b\"}\n";
        assert_eq!(scan(text, &mut done).unwrap(), text.len());
        assert_eq!(done.len(), 2);
    }

    #[test]
    fn resume_keeps_an_intact_file_and_a_fresh_start_empties_it() {
        let dir = std::env::temp_dir().join(format!("bc-journal-open-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.jsonl");
        let intact = "{\"recordId\":\"a\"}\n\n";
        std::fs::write(&path, intact).unwrap();
        let (journal, done) = Journal::open(&path, true, true).unwrap();
        drop(journal);
        assert_eq!(done, HashSet::from(["a".to_owned()]));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), intact);

        let (mut journal, done) = Journal::open(&path, false, false).unwrap();
        assert!(done.is_empty());
        journal.append("{\"recordId\":\"c\"}").unwrap();
        drop(journal);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"recordId\":\"c\"}\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
