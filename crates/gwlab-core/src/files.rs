//! Reading the files gwlab is given. Only regular files are read: a FIFO
//! blocks until someone writes to it and a device such as `/dev/zero` never
//! ends, so either would hang gwlab instead of telling the user.

use std::fs::{FileType, Metadata};
use std::path::Path;

/// Why a file given to gwlab was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The path exists but is something else than a regular file.
    #[error("is {0}, not a regular file")]
    NotRegular(&'static str),
    #[error("cannot read: {0}")]
    Io(#[source] std::io::Error),
}

/// What a path that is not a regular file is, for messages: "a directory",
/// "a FIFO", ...
pub fn describe(meta: &Metadata) -> &'static str {
    describe_type(meta.file_type())
}

fn describe_type(t: FileType) -> &'static str {
    if t.is_dir() {
        return "a directory";
    }
    if t.is_symlink() {
        return "a symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if t.is_file() {
        "a regular file"
    } else {
        "neither a file nor a directory"
    }
}

/// The text of `path`, which must be a regular file (a link to one is
/// followed).
pub fn read_to_string(path: &Path) -> Result<String, ReadError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        // The link exists but what it points to does not.
        Err(_) if std::fs::symlink_metadata(path).is_ok() => {
            return Err(ReadError::NotRegular("a link to nothing"));
        }
        Err(e) => return Err(ReadError::Io(e)),
    };
    if !meta.is_file() {
        return Err(ReadError::NotRegular(describe(&meta)));
    }
    std::fs::read_to_string(path).map_err(ReadError::Io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        std::fs::write(&file, "a: 1\n").unwrap();
        assert_eq!(read_to_string(&file).unwrap(), "a: 1\n");
        assert!(matches!(
            read_to_string(dir.path()),
            Err(ReadError::NotRegular("a directory"))
        ));
        #[cfg(unix)]
        {
            // A device: reading /dev/zero would never end.
            assert!(matches!(
                read_to_string(Path::new("/dev/zero")),
                Err(ReadError::NotRegular("a device"))
            ));
            let dangling = dir.path().join("gone.yaml");
            std::os::unix::fs::symlink(dir.path().join("nothing"), &dangling).unwrap();
            assert!(matches!(
                read_to_string(&dangling),
                Err(ReadError::NotRegular("a link to nothing"))
            ));
        }
        assert!(matches!(
            read_to_string(&dir.path().join("missing.yaml")),
            Err(ReadError::Io(_))
        ));
    }
}
