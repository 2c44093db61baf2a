//! The data dir: where it is by default, creating it private, and the lock that keeps
//! two `sphere` processes from sharing it.

use fs4::fs_std::FileExt;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Name of the lock file inside the data dir.
pub const LOCK_FILE: &str = "sphere.lock";

/// Why the data dir could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory (or a parent) could not be created.
    #[error("cannot create data dir {dir}: {source}; choose a writable directory with --data-dir")]
    Create {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The path exists but is not a directory.
    #[error("data dir {dir} exists and is not a directory; choose another with --data-dir")]
    NotADirectory { dir: PathBuf },
    /// The lock file could not be opened or written, usually a permission problem.
    #[error(
        "cannot write {path}: {source}; make the data dir writable by this user or choose another with --data-dir"
    )]
    LockFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Another process holds the lock.
    #[error(
        "another sphere is already running with data dir {dir} ({pid}); stop it first or use --data-dir"
    )]
    Locked { dir: PathBuf, pid: PidText },
}

/// The pid found in a held lock file, rendered as `pid N` or `pid unknown`.
#[derive(Debug)]
pub struct PidText(pub Option<u32>);

impl std::fmt::Display for PidText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(pid) => write!(f, "pid {pid}"),
            None => f.write_str("pid unknown"),
        }
    }
}

/// The default data dir: `$XDG_DATA_HOME/ferrosphere`, else `~/.local/share/ferrosphere`.
///
/// Returns `None` when neither variable gives an absolute path; the caller then asks
/// for `--data-dir`. A relative `XDG_DATA_HOME` is ignored, as the XDG spec requires.
pub fn default_data_dir() -> Option<PathBuf> {
    default_data_dir_from(
        std::env::var_os("XDG_DATA_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

fn default_data_dir_from(xdg: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    if let Some(xdg) = xdg.filter(|p| p.is_absolute()) {
        return Some(xdg.join("ferrosphere"));
    }
    home.filter(|p| p.is_absolute())
        .map(|h| h.join(".local/share/ferrosphere"))
}

/// A data dir this process owns until it is dropped (the flock is released with the file).
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Creates `path` (mode 0700, parents as needed) if it is missing, then takes the
    /// exclusive lock and records this process's pid in it. Fails at once, without
    /// waiting, if another process holds the lock.
    pub fn open(path: &Path) -> Result<DataDir, Error> {
        match fs::metadata(path) {
            Ok(meta) if !meta.is_dir() => {
                return Err(Error::NotADirectory {
                    dir: path.to_owned(),
                });
            }
            Ok(_) => {}
            Err(_) => DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(path)
                .map_err(|source| Error::Create {
                    dir: path.to_owned(),
                    source,
                })?,
        }
        let lock_path = path.join(LOCK_FILE);
        let lock_err = |source| Error::LockFile {
            path: lock_path.clone(),
            source,
        };
        // Not truncated on open: a running owner's pid must stay readable for the
        // error message of the process that loses the race.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(lock_err)?;
        let acquired = FileExt::try_lock_exclusive(&file).map_err(lock_err)?;
        if !acquired {
            return Err(Error::Locked {
                dir: path.to_owned(),
                pid: PidText(read_pid(&mut file)),
            });
        }
        write_pid(&mut file, std::process::id()).map_err(lock_err)?;
        Ok(DataDir {
            path: path.to_owned(),
            _lock: file,
        })
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A file inside the data dir.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

fn write_pid(file: &mut File, pid: u32) -> io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    writeln!(file, "{pid}")?;
    file.sync_all()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn default_prefers_absolute_xdg() {
        assert_eq!(
            default_data_dir_from(Some("/x".into()), Some("/home/u".into())),
            Some(PathBuf::from("/x/ferrosphere"))
        );
        assert_eq!(
            default_data_dir_from(Some("rel".into()), Some("/home/u".into())),
            Some(PathBuf::from("/home/u/.local/share/ferrosphere"))
        );
        assert_eq!(default_data_dir_from(None, None), None);
    }

    #[test]
    fn creates_private_dir_and_writes_pid() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        let dd = DataDir::open(&dir).unwrap();
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let pid = fs::read_to_string(dd.join(LOCK_FILE)).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
    }

    #[test]
    fn second_open_fails_with_pid_then_succeeds_after_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let first = DataDir::open(tmp.path()).unwrap();
        let err = DataDir::open(tmp.path()).unwrap_err();
        let msg = err.to_string();
        assert_eq!(
            msg,
            format!(
                "another sphere is already running with data dir {} (pid {}); stop it first or use --data-dir",
                tmp.path().display(),
                std::process::id()
            )
        );
        drop(first);
        DataDir::open(tmp.path()).unwrap();
    }

    #[test]
    fn file_in_place_of_dir_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, b"").unwrap();
        assert!(matches!(
            DataDir::open(&file),
            Err(Error::NotADirectory { .. })
        ));
    }
}
