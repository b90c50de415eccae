//! [`FileJournal`]: the send journal in one append-only file of JSON lines, synced on every
//! append. It needs no optional feature and no server, so it is the journal to embed.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{BufRead as _, BufReader, ErrorKind, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::backend::{Journal, JournalFuture};
use super::entry::{EntryIndex, JournalEntry};
use super::error::JournalError;
use super::record::{JournalRecord, decode_record, encode_record};
use crate::ids::CorrelationId;

/// A [`Journal`] in one file of JSON lines: one [`JournalRecord`] per line, only ever
/// appended, synced to disk before [`append`](Journal::append) returns.
///
/// ```
/// use time::macros::datetime;
/// use webex_connect_whatsapp::CorrelationId;
/// use webex_connect_whatsapp::conversation::journal::{
///     ContentDigest, FileJournal, Journal, JournalRecord, SendState,
/// };
///
/// # let dir = std::env::temp_dir().join(format!("wcwa-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let path = dir.join("campaign.jsonl");
/// # let _ = std::fs::remove_file(&path);
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let journal = FileJournal::open(&path)?;
/// let id = CorrelationId::new("invoice-1042")?;
/// let intent = JournalRecord::intent(id.clone(), "447400123456",
///     ContentDigest::of_bytes(b"{}"), datetime!(2026-12-01 09:00 UTC));
/// journal.append(&[intent]).await?;
/// drop(journal); // the process stops before the answer came
///
/// // Run again: the row may have reached the platform, so it must not be sent again.
/// let journal = FileJournal::open(&path)?;
/// let entry = journal.lookup(&id).await?.expect("journaled");
/// assert_eq!(entry.state(), &SendState::InFlight);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # The file
///
/// Each line is one record's JSON, exactly as [`JournalRecord`] serializes, e.g.
///
/// ```text
/// {"record":"intent","correlation_id":"row-7","recipient":"447400123456","digest":"…","at":"2026-12-01T09:00:00Z"}
/// {"record":"outcome","correlation_id":"row-7","outcome":"queued","transaction_id":"5c9f6594-…","at":"2026-12-01T09:00:01Z"}
/// ```
///
/// It holds recipients (personal data): on Unix a new file is created readable and writable
/// by its owner only (mode `0600`). Nothing rewrites or compacts it; start a new file per
/// campaign, or rotate it when no send of the old one can still be unresolved.
///
/// # Durability
///
/// One [`append`](Journal::append) is one write of all its lines, then `fdatasync`
/// ([`File::sync_data`]); it returns only after both, so a record it acknowledged survives a
/// crash of the process or of the machine. When the write or the sync fails, the journal
/// cuts the file back to its length before that append and returns the error: the file
/// holds exactly the acknowledged appends. If even that cut fails, the journal takes no more
/// records ([`JournalError::Unwritable`]) until it is opened again.
///
/// A crash in the middle of an append can leave its last line torn (no newline). That line
/// was never acknowledged, so the client did not send its row: [`FileJournal::open`] cuts
/// it off and says how many bytes it dropped ([`recovered_torn_bytes`](Self::recovered_torn_bytes),
/// and a `tracing` warning with the `client` or `axum` feature). Complete lines of the same
/// unacknowledged append stay: their rows read as in flight, never resent by the crate,
/// which errs towards not sending. Any other unreadable line is
/// [`JournalError::Corrupt`] naming its line number (never its content), and the journal
/// does not open: a run must not guess about rows it cannot read. Blank lines are skipped;
/// records of kinds a later version writes are kept in the file and change nothing.
///
/// # One writer
///
/// [`open`](Self::open) takes an exclusive lock on the file ([`File::try_lock`]: `flock` on
/// Unix, `LockFileEx` on Windows), held until the journal is dropped. A second open, from
/// this process or another, fails with [`JournalError::Locked`]: two runs of one campaign
/// could otherwise both send a row that neither has journaled yet. The lock is advisory and
/// may not hold on network file systems; keep the file on a local disk.
///
/// The lock belongs to the open file, not to the process: a child made by `fork` without
/// `exec` shares it and keeps it while the child lives, even after the parent dropped the
/// journal. A child that `exec`s (such as [`std::process::Command`] starts) does not inherit
/// it, as the file is opened close-on-exec.
///
/// # Blocking and memory
///
/// With the `client` feature and inside a tokio runtime, the write and the sync run on
/// tokio's blocking pool ([`spawn_blocking`](https://docs.rs/tokio/latest/tokio/task/fn.spawn_blocking.html)),
/// so a slow disk does not stall other tasks; otherwise they run inline in the future's
/// first poll. [`open`](Self::open) reads the whole file, blocking, before it returns.
/// Lookups and [`entries`](Journal::entries) answer from an index in memory and never wait
/// for the disk.
///
/// The index holds one [`JournalEntry`] per correlation id, not the records: about 400 bytes
/// per send (measured on Linux: opening a file of 100,000 sends, each an intent and a queued
/// outcome with a 36-character transid, 33 MB of JSON, grows the process by 40 MB; see
/// `tests/journal_memory.rs`). A campaign of a million rows needs about 400 MB: split it
/// into several files.
pub struct FileJournal {
    shared: Arc<Shared>,
    recovered_torn_bytes: u64,
}

/// What the journal and its blocking writes share.
struct Shared {
    path: PathBuf,
    /// Held while one append is written and synced, so appends never interleave.
    writer: Mutex<Writer>,
    /// Held only to fold or read entries, never during I/O.
    index: Mutex<EntryIndex>,
}

struct Writer {
    /// Opened for reading and writing; holds the lock.
    file: File,
    /// The file's length after the last acknowledged append.
    len: u64,
    /// An append failed and could not be undone.
    unwritable: bool,
}

impl FileJournal {
    /// Opens the journal at `path`, creating the file if there is none, and reads its records.
    ///
    /// A torn last line (see [Durability](Self#durability)) is cut off.
    ///
    /// # Errors
    ///
    /// - [`JournalError::Locked`] when another journal (in this process or another) has the
    ///   file open.
    /// - [`JournalError::Corrupt`] when a line other than a torn last one cannot be read as a
    ///   record; its location names the line number.
    /// - [`JournalError::Io`] when the file cannot be opened, locked, read or cut.
    ///
    /// ```
    /// use webex_connect_whatsapp::conversation::journal::{FileJournal, JournalError};
    /// # let dir = std::env::temp_dir().join(format!("wcwa-doc-open-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("journal.jsonl");
    /// let journal = FileJournal::open(&path)?;
    /// assert!(matches!(FileJournal::open(&path), Err(JournalError::Locked { .. })));
    /// drop(journal);
    /// let again = FileJournal::open(&path)?;
    /// # drop(again);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self, JournalError> {
        let path = path.as_ref().to_path_buf();
        let (file, created) = open_file(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(JournalError::Locked {
                    path: path.display().to_string(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io_error(&path, "locked", e)),
        }
        if created {
            sync_parent(&path)?;
        }
        let Loaded {
            index,
            len,
            torn_bytes,
        } = load(&file, &path)?;
        if torn_bytes > 0 {
            file.set_len(len)
                .and_then(|()| file.sync_all())
                .map_err(|e| io_error(&path, "cut back to its last complete line", e))?;
            #[cfg(any(feature = "client", feature = "axum"))]
            tracing::warn!(
                path = %path.display(),
                bytes = torn_bytes,
                "dropped the journal's torn last line, an append that was never acknowledged"
            );
        }
        Ok(Self {
            shared: Arc::new(Shared {
                path,
                writer: Mutex::new(Writer {
                    file,
                    len,
                    unwritable: false,
                }),
                index: Mutex::new(index),
            }),
            recovered_torn_bytes: torn_bytes,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// How many bytes of a torn last line [`open`](Self::open) cut off: 0 when the file
    /// ended with a complete line. Non-zero means the last run stopped in the middle of an
    /// append (a crash, a kill, a full disk), whose rows it did not send.
    ///
    /// ```
    /// use webex_connect_whatsapp::conversation::journal::FileJournal;
    /// # let dir = std::env::temp_dir().join(format!("wcwa-doc-torn-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("journal.jsonl");
    /// std::fs::write(&path, r#"{"record":"intent","correlation_id":"row-1""#)?;
    /// let journal = FileJournal::open(&path)?;
    /// assert_eq!(journal.recovered_torn_bytes(), 43);
    /// assert_eq!(std::fs::metadata(&path)?.len(), 0);
    /// # drop(journal);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn recovered_torn_bytes(&self) -> u64 {
        self.recovered_torn_bytes
    }

    fn index(&self) -> MutexGuard<'_, EntryIndex> {
        lock(&self.shared.index)
    }
}

impl fmt::Debug for FileJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileJournal")
            .field("path", &self.shared.path)
            .field("sends", &self.index().entries().len())
            .field("recovered_torn_bytes", &self.recovered_torn_bytes)
            .finish()
    }
}

impl Journal for FileJournal {
    fn append<'a>(&'a self, records: &'a [JournalRecord]) -> JournalFuture<'a, ()> {
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            if records.is_empty() {
                return Ok(());
            }
            let mut batch = String::new();
            for record in records {
                batch.push_str(&encode_record(record)?);
                batch.push('\n');
            }
            let records = records.to_vec();
            off_the_runtime(shared, move |shared| {
                shared.write(batch.as_bytes(), &records)
            })
            .await
        })
    }

    fn lookup<'a>(
        &'a self,
        correlation_id: &'a CorrelationId,
    ) -> JournalFuture<'a, Option<JournalEntry>> {
        let entry = self.index().get(correlation_id).cloned();
        Box::pin(std::future::ready(Ok(entry)))
    }

    fn entries(&self) -> JournalFuture<'_, Vec<JournalEntry>> {
        let entries = self.index().entries().to_vec();
        Box::pin(std::future::ready(Ok(entries)))
    }
}

impl Shared {
    /// Writes one append's lines and syncs them, then folds its records into the index; on
    /// failure, cuts the file back so it holds only acknowledged appends.
    fn write(&self, batch: &[u8], records: &[JournalRecord]) -> Result<(), JournalError> {
        let mut guard = lock(&self.writer);
        let writer = &mut *guard;
        if writer.unwritable {
            return Err(JournalError::Unwritable {
                path: self.path.display().to_string(),
            });
        }
        // Written at the acknowledged length, not in append mode: Windows refuses to cut
        // (`set_len`) a file opened only for appending.
        let written = writer
            .file
            .seek(SeekFrom::Start(writer.len))
            .and_then(|_| writer.file.write_all(batch))
            .map_err(|e| io_error(&self.path, "written", e))
            .and_then(|()| {
                writer
                    .file
                    .sync_data()
                    .map_err(|e| io_error(&self.path, "synced", e))
            });
        if let Err(err) = written {
            // A partial line left in place would make the next append's first line unreadable
            // (and the file would not open). After a failed sync the written pages' fate is
            // unknown, so they go too: the caller was told the append failed and sends nothing.
            let undone = writer
                .file
                .set_len(writer.len)
                .and_then(|()| writer.file.sync_data());
            if undone.is_err() {
                writer.unwritable = true;
            }
            return Err(err);
        }
        writer.len = writer.len.saturating_add(batch.len() as u64);
        let mut index = lock(&self.index);
        for record in records {
            index.apply(record);
        }
        Ok(())
    }
}

/// Runs `work` on tokio's blocking pool when there is a runtime (feature `client`), so a
/// write and its sync do not hold up the runtime's other tasks; inline otherwise.
#[cfg_attr(
    not(feature = "client"),
    expect(
        clippy::unused_async,
        reason = "without tokio the work runs inline, but callers await it either way"
    )
)]
async fn off_the_runtime<F>(shared: Arc<Shared>, work: F) -> Result<(), JournalError>
where
    F: FnOnce(&Shared) -> Result<(), JournalError> + Send + 'static,
{
    #[cfg(feature = "client")]
    {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let path = shared.path.clone();
            // The task runs to its end even if this future is dropped: an append is never
            // cut off half-way by a cancelled caller.
            return handle
                .spawn_blocking(move || work(&shared))
                .await
                .unwrap_or_else(|e| Err(io_error(&path, "written", std::io::Error::other(e))));
        }
    }
    work(&shared)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; if something did, the state is still the
    // fold of acknowledged appends.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn io_error(path: &Path, action: &'static str, source: std::io::Error) -> JournalError {
    JournalError::Io {
        path: path.display().to_string(),
        action,
        source,
    }
}

/// Opens the file for reading and writing; `true` when it was created.
fn open_file(path: &Path) -> Result<(File, bool), JournalError> {
    let mut options = OpenOptions::new();
    options.read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Only for a new file: the journal holds recipients.
        options.mode(0o600);
    }
    match options.clone().create_new(true).open(path) {
        Ok(file) => Ok((file, true)),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => options
            .open(path)
            .map(|file| (file, false))
            .map_err(|e| io_error(path, "opened", e)),
        Err(e) => Err(io_error(path, "created", e)),
    }
}

/// Makes a new file's directory entry durable, so a crash cannot lose the file itself.
fn sync_parent(path: &Path) -> Result<(), JournalError> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| io_error(path, "synced (its directory)", e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

struct Loaded {
    index: EntryIndex,
    /// The length up to the end of the last complete line.
    len: u64,
    /// The length of a torn last line, 0 if none.
    torn_bytes: u64,
}

/// Reads every line, folding the records into an index.
fn load(file: &File, path: &Path) -> Result<Loaded, JournalError> {
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut index = EntryIndex::default();
    let mut line = Vec::new();
    let mut len = 0_u64;
    let mut number = 0_u64;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| io_error(path, "read", e))?;
        if read == 0 {
            return Ok(Loaded {
                index,
                len,
                torn_bytes: 0,
            });
        }
        number += 1;
        let Some(body) = line.strip_suffix(b"\n") else {
            // Only the last line can lack its newline: `read_until` stops at one otherwise.
            return Ok(Loaded {
                index,
                len,
                torn_bytes: read as u64,
            });
        };
        len = len.saturating_add(read as u64);
        if body.trim_ascii().is_empty() {
            continue;
        }
        match decode_record(body) {
            Ok(Some(record)) => index.apply(&record),
            Ok(None) => {}
            Err(detail) => {
                return Err(JournalError::Corrupt {
                    location: format!("line {number} of {}", path.display()),
                    detail,
                });
            }
        }
    }
}
