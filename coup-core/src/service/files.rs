//! File metadata: the blobs themselves live in the front end's blob storage (the
//! server's data directory) under a random storage key that the core chooses;
//! client-supplied names are only ever shown, never used as paths.
//!
//! Upload is two steps so nothing is left behind: [`authorize_upload`] before the
//! bytes are received, [`register`] after they are stored in full.

use chrono::Utc;

use super::listing::{Filter, Listing, Sql};
use super::{Caller, announce, require_study};
use crate::error::{Error, Result};
use crate::events::{DomainEvent, Outcome};
use crate::ids::{FileId, StudyId};
use crate::model::{FileMeta, Page, PageRequest};
use crate::params;
use crate::permissions::Operation;
use crate::store::{Row, Tx, Value, read_row};
use crate::validate::{self, FILE_MAX_BYTES};

/// A stored upload to be registered.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// The name the uploader gave (any path in it is dropped).
    pub name: String,
    /// The declared media type; empty means `application/octet-stream`.
    pub content_type: String,
    /// Bytes stored.
    pub size: u64,
    /// Where the blob was stored; from [`new_storage_key`].
    pub storage_key: String,
}

/// A fresh random storage key (hex, no path characters).
pub fn new_storage_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Whether a string could be a storage key this module made.
pub fn is_storage_key(key: &str) -> bool {
    key.len() == 32 && key.chars().all(|c| c.is_ascii_hexdigit())
}

/// A file's columns, named `file_*` so that they can sit beside a message's
/// (a chat message's attachment) in one row.
pub(crate) const FILE_COLUMNS: &str = "f.id AS file_id, f.study_id AS file_study_id,
    f.uploader_id AS file_uploader_id, f.name AS file_name,
    f.content_type AS file_content_type, f.size AS file_size,
    f.storage_key AS file_storage_key, f.download_count AS file_download_count,
    f.created_at AS file_created_at";

/// Reads a file from its [`FILE_COLUMNS`] (`None` if its id is NULL: a message
/// without an attachment).
pub(crate) fn file_from_row(r: &Row) -> Result<Option<FileMeta>> {
    if r.opt_text("file_id")?.is_none() {
        return Ok(None);
    }
    read_row!(r => FileMeta {
        id: parse("file_id"), study_id: parse("file_study_id"),
        uploader_id: parse("file_uploader_id"), name: text("file_name"),
        content_type: text("file_content_type"), size: count("file_size"),
        storage_key: text("file_storage_key"), download_count: count("file_download_count"),
        created_at: time("file_created_at"),
    })
    .map(Some)
}

pub(crate) fn load(tx: &mut dyn Tx, study_id: StudyId, id: FileId) -> Result<FileMeta> {
    let sql = format!("SELECT {FILE_COLUMNS} FROM files f WHERE f.id = ? AND f.study_id = ?");
    tx.query_one_as(&sql, params![id, study_id], "file", file_from_row)?
        .ok_or(Error::NotFound("file"))
}

/// Refuses an upload before any byte is stored.
pub fn authorize_upload(tx: &mut dyn Tx, caller: Caller, study_id: StudyId) -> Result<()> {
    require_study(tx, caller, study_id, Operation::UploadFile).map(drop)
}

/// Records a stored upload; the other members are notified.
pub fn register(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    input: NewFile,
) -> Result<Outcome<FileMeta>> {
    let access = require_study(tx, caller, study_id, Operation::UploadFile)?;
    if input.size > FILE_MAX_BYTES {
        return Err(Error::PayloadTooLarge {
            limit: FILE_MAX_BYTES,
        });
    }
    let name = validate::file_name(&input.name)?;
    let content_type = match input.content_type.trim() {
        "" => "application/octet-stream".to_owned(),
        t if t.contains('/') && t.len() <= 255 && !t.contains(char::is_control) => t.to_owned(),
        _ => return Err(Error::validation("contentType", "is not a media type")),
    };
    if !is_storage_key(&input.storage_key) {
        return Err(Error::Internal(
            "storage key was not made by new_storage_key".into(),
        ));
    }
    let id = FileId::new();
    tx.execute(
        "INSERT INTO files (id, study_id, uploader_id, name, content_type, size, storage_key, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![id, study_id, access.caller()?, name, content_type, input.size, &input.storage_key, Utc::now()],
    )?;
    let file = load(tx, study_id, id)?;
    announce(tx, study_id, file, |file, members| {
        DomainEvent::FileUploaded {
            file,
            study_name: access.name,
            members,
        }
    })
}

/// A study's files, newest first.
pub fn list(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    page: PageRequest,
) -> Result<Page<FileMeta>> {
    require_study(tx, caller, study_id, Operation::ListFiles)?;
    Listing {
        count: Sql::new("SELECT COUNT(*) FROM files f", []),
        select: Sql::new(format!("SELECT {FILE_COLUMNS} FROM files f"), []),
        order: "f.created_at DESC, f.id",
    }
    .page(
        tx,
        &Filter::new("f.study_id = ?", [Value::from(study_id)]),
        page,
        |tx, sql, args| {
            tx.query(sql, args)?
                .iter()
                .filter_map(|r| file_from_row(r).transpose())
                .collect()
        },
    )
}

/// Counts a download and returns where the blob is.
pub fn download(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    id: FileId,
) -> Result<FileMeta> {
    require_study(tx, caller, study_id, Operation::DownloadFile)?;
    let changed = tx.execute(
        "UPDATE files SET download_count = download_count + 1 WHERE id = ? AND study_id = ?",
        params![id, study_id],
    )?;
    if changed == 0 {
        return Err(Error::NotFound("file"));
    }
    load(tx, study_id, id)
}

/// Deletes a file's metadata (uploader, OWNER or ADMINs); the returned metadata
/// says which blob to remove. Chat messages that attached it lose the attachment.
pub fn delete(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    id: FileId,
) -> Result<Outcome<FileMeta>> {
    let access = super::study_access(tx, caller, study_id)?;
    access.require(Operation::DeleteFile, true)?;
    let file = load(tx, study_id, id)?;
    access.require(Operation::DeleteFile, caller == Some(file.uploader_id))?;
    tx.execute(
        "UPDATE messages SET file_id = NULL WHERE file_id = ?",
        params![id],
    )?;
    tx.execute("DELETE FROM files WHERE id = ?", params![id])?;
    let event = DomainEvent::FileDeleted {
        study_id,
        file_id: id,
        storage_key: file.storage_key.clone(),
    };
    Ok(Outcome::new(file, vec![event]))
}
