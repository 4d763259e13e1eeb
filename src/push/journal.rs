//! An event log's journal on disk: one JSON line per kept push
//! (`{"id":…,"received_at_ms":…,"content":{…}}`, the content as the
//! warehouse sent it), written and synced before the warehouse hears that
//! the push was kept, and read back at start-up. Storing the pushed content
//! rather than our reading of it means a later reader reads old pushes the
//! way it reads new ones.

use std::{
    fs::{File, OpenOptions},
    io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use serde::Deserialize;
use serde_json::Value;

/// A journal could not be opened or read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct JournalError {
    path: String,
    source: io::Error,
}

impl JournalError {
    pub(crate) fn at(path: &Path) -> impl FnOnce(io::Error) -> Self + '_ {
        move |source| Self {
            path: path.display().to_string(),
            source,
        }
    }
}

/// One line read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: u64,
    pub received_at: SystemTime,
    pub content: Value,
}

#[derive(Deserialize)]
struct Line {
    id: u64,
    received_at_ms: u64,
    content: Value,
}

/// An open journal, appended to.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Lines in the file: it is rewritten with the newest ones when it holds
    /// more than twice what the log keeps.
    lines: usize,
    /// A write failed, perhaps halfway through a line: the next one starts
    /// on a line of its own.
    cut: bool,
}

impl Journal {
    /// Opens or creates the journal at `path`; returns it with the entries it
    /// holds, oldest first, and how many lines could not be read (a line cut
    /// short by a crash, say), which are skipped.
    pub fn open(path: &Path) -> Result<(Self, Vec<Entry>, usize), JournalError> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(JournalError::at(path))?;
        let mut entries = Vec::new();
        let mut unreadable = 0;
        let mut lines = 0;
        for line in BufReader::new(&file).split(b'\n') {
            let line = line.map_err(JournalError::at(path))?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            lines += 1;
            match serde_json::from_slice::<Line>(&line) {
                Ok(line) => entries.push(Entry {
                    id: line.id,
                    received_at: SystemTime::UNIX_EPOCH
                        + Duration::from_millis(line.received_at_ms),
                    content: line.content,
                }),
                Err(_) => unreadable += 1,
            }
        }
        // A last line cut short gets its newline, so the next append starts
        // a line of its own.
        if !ends_with_newline(&mut file).map_err(JournalError::at(path))? {
            file.write_all(b"\n")
                .and_then(|()| file.sync_data())
                .map_err(JournalError::at(path))?;
        }
        let journal = Self {
            path: path.to_owned(),
            file,
            lines,
            cut: false,
        };
        Ok((journal, entries, unreadable))
    }

    /// Appends one entry and syncs it to disk.
    pub fn append(&mut self, id: u64, received_at: SystemTime, content: &Value) -> io::Result<()> {
        let received_at_ms = millis_since_epoch(received_at);
        let mut line = Vec::with_capacity(256);
        if self.cut {
            line.push(b'\n');
        }
        serde_json::to_writer(
            &mut line,
            &serde_json::json!({
                "id": id,
                "received_at_ms": received_at_ms,
                "content": content,
            }),
        )?;
        line.push(b'\n');
        let written = self
            .file
            .write_all(&line)
            .and_then(|()| self.file.sync_data());
        self.cut = written.is_err();
        written?;
        self.lines += 1;
        Ok(())
    }

    /// Once the file holds more than twice `keep` lines, rewrites it with
    /// the newest `keep` (to a temporary file, then renamed over it), so it
    /// does not grow without bound.
    pub fn compact(&mut self, keep: usize) -> io::Result<()> {
        if self.lines <= keep.saturating_mul(2) {
            return Ok(());
        }
        let mut text = Vec::new();
        File::open(&self.path)?.read_to_end(&mut text)?;
        let newest: Vec<&[u8]> = text
            .split(|&byte| byte == b'\n')
            .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
            .collect();
        let newest = &newest[newest.len().saturating_sub(keep)..];
        let temporary = self.path.with_extension("jsonl.tmp");
        // Written through the handle that then goes on appending: after the
        // rename it is the journal, with nothing left to reopen.
        let mut out = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temporary)?;
        let mut rewritten = Vec::with_capacity(newest.iter().map(|line| line.len() + 1).sum());
        for line in newest {
            rewritten.extend_from_slice(line);
            rewritten.push(b'\n');
        }
        out.write_all(&rewritten)?;
        out.sync_all()?;
        std::fs::rename(&temporary, &self.path)?;
        if let Some(dir) = self.path.parent() {
            // The rename itself lasts once the directory is synced; not
            // every platform can open a directory, which is no loss here.
            if let Ok(dir) = File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        self.file = out;
        self.lines = newest.len();
        self.cut = false;
        Ok(())
    }
}

/// Whole milliseconds since the Unix epoch: what the journal stores of a time.
pub fn millis_since_epoch(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

fn ends_with_newline(file: &mut File) -> io::Result<bool> {
    let length = file.seek(SeekFrom::End(0))?;
    if length == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh, empty directory under the system's temporary one.
    pub(crate) fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "qlink-facade-{name}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn entries_come_back_in_order_and_a_cut_line_is_skipped() {
        let dir = scratch_dir("journal");
        let path = dir.join("orders.jsonl");
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_744_098_883_894);
        {
            let (mut journal, entries, unreadable) = Journal::open(&path).expect("open");
            assert_eq!((entries.len(), unreadable), (0, 0));
            journal
                .append(7, at, &serde_json::json!({"orderNumber": "A"}))
                .expect("append");
            journal
                .append(8, at, &serde_json::json!({"orderNumber": "B"}))
                .expect("append");
        }
        // A crash in the middle of a write.
        let mut file = OpenOptions::new().append(true).open(&path).expect("file");
        file.write_all(br#"{"id":9,"received_at"#).expect("write");
        drop(file);

        let (mut journal, entries, unreadable) = Journal::open(&path).expect("reopen");
        assert_eq!(unreadable, 1);
        assert_eq!(
            entries,
            vec![
                Entry {
                    id: 7,
                    received_at: at,
                    content: serde_json::json!({"orderNumber": "A"}),
                },
                Entry {
                    id: 8,
                    received_at: at,
                    content: serde_json::json!({"orderNumber": "B"}),
                },
            ]
        );
        journal
            .append(10, at, &serde_json::json!({"orderNumber": "C"}))
            .expect("append after the cut line");
        let (_, entries, unreadable) = Journal::open(&path).expect("reopen");
        assert_eq!(unreadable, 1);
        let ids: Vec<u64> = entries.iter().map(|entry| entry.id).collect();
        assert_eq!(ids, vec![7, 8, 10]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn after_a_failed_write_the_next_entry_starts_a_line_of_its_own() {
        let dir = scratch_dir("cut");
        let path = dir.join("orders.jsonl");
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1);
        let (mut journal, _, _) = Journal::open(&path).expect("open");
        journal
            .append(1, at, &serde_json::json!({"orderNumber": "A"}))
            .expect("append");
        // What a write that failed halfway (a full disk, say) leaves behind.
        journal.file.write_all(br#"{"id":2,"rec"#).expect("write");
        journal.cut = true;
        journal
            .append(3, at, &serde_json::json!({"orderNumber": "C"}))
            .expect("append");
        let (_, entries, unreadable) = Journal::open(&path).expect("reopen");
        let ids: Vec<u64> = entries.iter().map(|entry| entry.id).collect();
        assert_eq!((ids, unreadable), (vec![1, 3], 1));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn compaction_keeps_the_newest_lines() {
        let dir = scratch_dir("compact");
        let path = dir.join("asns.jsonl");
        let (mut journal, _, _) = Journal::open(&path).expect("open");
        for id in 1..=7 {
            journal
                .append(id, SystemTime::now(), &serde_json::json!({"asnNumber": id}))
                .expect("append");
            journal.compact(3).expect("compact");
        }
        // Compacted when the 7th line arrived: 7 > 2 × 3.
        let (_, entries, _) = Journal::open(&path).expect("reopen");
        let ids: Vec<u64> = entries.iter().map(|entry| entry.id).collect();
        assert_eq!(ids, vec![5, 6, 7]);
        journal
            .append(8, SystemTime::now(), &serde_json::json!({"asnNumber": 8}))
            .expect("append after compaction");
        let (_, entries, _) = Journal::open(&path).expect("reopen");
        assert_eq!(entries.last().map(|entry| entry.id), Some(8));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
