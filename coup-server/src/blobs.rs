//! Blob storage for uploaded files: `<data_dir>/files/<storage key>`. Uploads are
//! streamed to a temporary file and renamed into place only when complete, so a
//! refused or broken upload leaves nothing behind.

use std::io;
use std::path::PathBuf;

use axum::body::Bytes;
use coup_core::service::files::is_storage_key;
use futures_util::{Stream, StreamExt};
use tokio::fs::{self, File};
use tokio::io::AsyncWriteExt;

/// Why a blob could not be stored; `E` is the body stream's own error, kept
/// whole so the caller classifies it by its type, not by its text.
#[derive(Debug, thiserror::Error)]
pub enum BlobError<E: std::error::Error> {
    /// More than the limit arrived.
    #[error("file exceeds {0} bytes")]
    TooLarge(u64),
    /// The body stream failed (client went away, body limit hit).
    #[error("upload interrupted: {0}")]
    Body(#[source] E),
    /// The disk failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The files directory.
#[derive(Debug, Clone)]
pub struct Blobs {
    dir: PathBuf,
}

impl Blobs {
    /// Blob storage under `dir`, created if missing.
    pub fn open(dir: PathBuf) -> io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    /// Where a blob lives; only keys the core made are accepted, so no path can
    /// escape the directory.
    pub fn path(&self, key: &str) -> io::Result<PathBuf> {
        if is_storage_key(key) {
            Ok(self.dir.join(key))
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a storage key",
            ))
        }
    }

    /// Streams `body` into the blob `key`, refusing more than `limit` bytes.
    /// Returns the size. On any failure the partial file is removed.
    pub async fn store<S, E>(&self, key: &str, body: S, limit: u64) -> Result<u64, BlobError<E>>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::error::Error,
    {
        let final_path = self.path(key)?;
        let temp = self.dir.join(format!(".upload-{key}"));
        let result = write_limited(&temp, body, limit).await;
        match result {
            Ok(size) => {
                fs::rename(&temp, &final_path).await?;
                Ok(size)
            }
            Err(e) => {
                let _ = fs::remove_file(&temp).await;
                Err(e)
            }
        }
    }

    /// Removes a blob; a blob already gone is fine.
    pub async fn remove(&self, key: &str) -> io::Result<()> {
        match fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

async fn write_limited<S, E>(path: &PathBuf, mut body: S, limit: u64) -> Result<u64, BlobError<E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::error::Error,
{
    let mut file = File::create(path).await?;
    let mut size: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(BlobError::Body)?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(BlobError::TooLarge(limit));
        }
        file.write_all(&chunk).await?;
    }
    file.sync_all().await?;
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(n: usize, size: usize) -> impl Stream<Item = Result<Bytes, io::Error>> + Unpin {
        futures_util::stream::iter((0..n).map(move |_| Ok(Bytes::from(vec![7u8; size]))))
    }

    #[tokio::test]
    async fn stores_whole_blobs_and_leaves_nothing_when_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blobs = Blobs::open(dir.path().join("files")).expect("open");
        let key = coup_core::service::files::new_storage_key();
        assert_eq!(
            blobs.store(&key, chunks(4, 10), 40).await.expect("fits"),
            40
        );
        assert_eq!(
            std::fs::read(blobs.path(&key).expect("path"))
                .expect("read")
                .len(),
            40
        );
        let big = coup_core::service::files::new_storage_key();
        assert!(matches!(
            blobs.store(&big, chunks(5, 10), 40).await,
            Err(BlobError::TooLarge(40))
        ));
        let left: Vec<_> = std::fs::read_dir(dir.path().join("files"))
            .expect("dir")
            .collect();
        assert_eq!(left.len(), 1, "only the complete blob remains");
        assert!(blobs.path("../../etc/passwd").is_err());
        blobs.remove(&key).await.expect("remove");
        blobs.remove(&key).await.expect("removing twice is fine");
    }
}
