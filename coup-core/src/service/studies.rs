//! Studies: create, read, search, edit, soft delete, invite codes.

pub use crate::api::studies::{InviteCode, MyStudiesQuery, NewStudy, StudyPatch, StudyQuery};
use std::collections::HashMap;

use chrono::Utc;

use super::listing::{Filter, Listing, Sql};
use super::{
    Caller, active_member_ids, placeholders, quiet, require_account, require_study, study_access,
};
use crate::auth;
use crate::error::{Error, Result};
use crate::events::{DomainEvent, Outcome};
use crate::ids::{StudyId, UserId};
use crate::model::{MemberStatus, Page, Study, StudySort};
use crate::params;
use crate::permissions::Operation;
use crate::store::{Row, Tx, Value, read_row};
use crate::validate;

/// Smallest and largest `maxMembers`.
pub const MAX_MEMBERS_RANGE: (u32, u32) = (2, 1000);

fn max_members(value: u32) -> Result<u32> {
    let (lo, hi) = MAX_MEMBERS_RANGE;
    if (lo..=hi).contains(&value) {
        Ok(value)
    } else {
        Err(Error::validation(
            "maxMembers",
            format!("must be between {lo} and {hi}"),
        ))
    }
}

fn description(value: &str) -> Result<String> {
    Ok(validate::optional_text("description", Some(value), 2000)?.unwrap_or_default())
}

/// `SELECT` of studies as `viewer` sees them (their role and status in each).
pub(crate) fn study_select(viewer: Caller) -> Sql {
    Sql::new(
        "SELECT s.id, s.name, s.description, s.category, s.max_members, s.member_count,
        s.is_public, s.join_policy, s.is_recruiting, s.owner_id, o.name AS owner_name, s.last_seq,
        s.created_at, s.updated_at, m.role AS my_role, m.status AS my_status
    FROM studies s
    JOIN users o ON o.id = s.owner_id
    LEFT JOIN memberships m ON m.study_id = s.id AND m.user_id = ?",
        [Value::from(viewer)],
    )
}

/// A study from its row, its texts moved out (listings read every study of a
/// page through here).
fn study_from_row(r: &mut Row) -> Result<Study> {
    read_row!(r => Study {
        id: parse, name: take_text, description: take_text, category: take_text,
        tags: { Vec::new() }, max_members: small_count, member_count: small_count,
        is_public: bool, join_policy: parse, is_recruiting: bool, owner_id: parse,
        owner_name: take_text, last_seq: int, created_at: time,
        updated_at: time, my_role: opt_parse, my_status: opt_parse,
    })
}

/// Reads studies with their tags, in the order of the query.
pub(crate) fn load_studies(tx: &mut dyn Tx, sql: &str, params: &[Value]) -> Result<Vec<Study>> {
    let mut studies = tx
        .query(sql, params)?
        .into_iter()
        .map(|mut r| study_from_row(&mut r))
        .collect::<Result<Vec<_>>>()?;
    if studies.is_empty() {
        return Ok(studies);
    }
    let ids: Vec<Value> = studies.iter().map(|s| Value::from(s.id)).collect();
    let mut tags: HashMap<StudyId, Vec<String>> = HashMap::new();
    for mut r in tx.query(
        &format!(
            "SELECT study_id, tag FROM study_tags WHERE study_id IN ({}) ORDER BY tag",
            placeholders(ids.len())
        ),
        &ids,
    )? {
        tags.entry(r.parse("study_id")?)
            .or_default()
            .push(r.take_text("tag")?);
    }
    for s in &mut studies {
        s.tags = tags.remove(&s.id).unwrap_or_default();
    }
    Ok(studies)
}

/// Loads one study (deleted ones included) as `viewer` sees it.
pub(crate) fn load_study(tx: &mut dyn Tx, viewer: Caller, id: StudyId) -> Result<Study> {
    let select = study_select(viewer).then(" WHERE s.id = ?", [Value::from(id)]);
    load_studies(tx, select.text(), select.binds())?
        .pop()
        .ok_or(Error::NotFound("study"))
}

fn write_tags(tx: &mut dyn Tx, id: StudyId, tags: &[String]) -> Result<()> {
    tx.execute("DELETE FROM study_tags WHERE study_id = ?", params![id])?;
    for tag in tags {
        tx.execute(
            "INSERT INTO study_tags (study_id, tag) VALUES (?, ?)",
            params![id, tag],
        )?;
    }
    Ok(())
}

/// Creates a study with the caller as its OWNER.
pub fn create(tx: &mut dyn Tx, caller: Caller, input: NewStudy) -> Result<Outcome<Study>> {
    let me = require_account(tx, caller, Operation::CreateStudy)?;
    let name = validate::text("name", &input.name, 1, 50)?;
    let description = description(&input.description)?;
    let category = validate::text("category", &input.category, 1, 30)?;
    let tags = validate::tags(&input.tags)?;
    let max = max_members(input.max_members)?;
    let id = StudyId::new();
    let now = Utc::now();
    tx.execute(
        "INSERT INTO studies (id, name, description, category, max_members, member_count, is_public,
            join_policy, is_recruiting, invite_code, owner_id, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
        params![id, name, description, category, max, input.is_public, input.join_policy,
            input.is_recruiting, auth::new_invite_code(), me.id, now, now],
    )?;
    tx.execute(
        "INSERT INTO memberships (study_id, user_id, role, status, requested_at, joined_at)
         VALUES (?, ?, 'OWNER', 'ACTIVE', ?, ?)",
        params![id, me.id, now, now],
    )?;
    write_tags(tx, id, &tags)?;
    let study = load_study(tx, caller, id)?;
    Ok(Outcome::new(
        study.clone(),
        vec![DomainEvent::StudyCreated { study }],
    ))
}

/// One study, if the caller may see it.
pub fn get(tx: &mut dyn Tx, caller: Caller, id: StudyId) -> Result<Study> {
    require_study(tx, caller, id, Operation::ViewStudy)?;
    load_study(tx, caller, id)
}

/// Changes a study (OWNER only).
pub fn update(
    tx: &mut dyn Tx,
    caller: Caller,
    id: StudyId,
    patch: StudyPatch,
) -> Result<Outcome<Study>> {
    require_study(tx, caller, id, Operation::UpdateStudy)?;
    super::non_empty_patch(
        patch.name.is_some()
            || patch.description.is_some()
            || patch.category.is_some()
            || patch.tags.is_some()
            || patch.max_members.is_some()
            || patch.is_public.is_some()
            || patch.join_policy.is_some()
            || patch.is_recruiting.is_some(),
    )?;
    let current = load_study(tx, caller, id)?;
    let name = super::patched_text("name", patch.name.as_deref(), 1, 50, current.name)?;
    let description = patch
        .description
        .as_deref()
        .map(description)
        .transpose()?
        .unwrap_or(current.description);
    let category = super::patched_text(
        "category",
        patch.category.as_deref(),
        1,
        30,
        current.category,
    )?;
    let tags = patch.tags.as_deref().map(validate::tags).transpose()?;
    let max = patch
        .max_members
        .map(max_members)
        .transpose()?
        .unwrap_or(current.max_members);
    if max < current.member_count {
        return Err(Error::validation(
            "maxMembers",
            format!("the study already has {} members", current.member_count),
        ));
    }
    tx.execute(
        "UPDATE studies SET name = ?, description = ?, category = ?, max_members = ?, is_public = ?,
            join_policy = ?, is_recruiting = ?, updated_at = ? WHERE id = ?",
        params![name, description, category, max, patch.is_public.unwrap_or(current.is_public),
            patch.join_policy.unwrap_or(current.join_policy),
            patch.is_recruiting.unwrap_or(current.is_recruiting), Utc::now(), id],
    )?;
    if let Some(tags) = tags {
        write_tags(tx, id, &tags)?;
    }
    let study = load_study(tx, caller, id)?;
    Ok(Outcome::new(
        study.clone(),
        vec![DomainEvent::StudyUpdated { study }],
    ))
}

/// Soft-deletes a study (OWNER only): it and all its content disappear for everyone.
pub fn delete(tx: &mut dyn Tx, caller: Caller, id: StudyId) -> Result<Outcome<()>> {
    let access = require_study(tx, caller, id, Operation::DeleteStudy)?;
    let event = mark_deleted(tx, id, access.caller()?, &access.name)?;
    Ok(Outcome::new((), vec![event]))
}

/// Marks a study deleted; shared by the OWNER's delete and the admins'.
pub(crate) fn mark_deleted(
    tx: &mut dyn Tx,
    id: StudyId,
    actor: UserId,
    name: &str,
) -> Result<DomainEvent> {
    let members = active_member_ids(tx, id)?;
    let changed = tx.execute(
        "UPDATE studies SET deleted_at = ?, is_recruiting = FALSE WHERE id = ? AND deleted_at IS NULL",
        params![Utc::now(), id],
    )?;
    if changed == 0 {
        return Err(Error::NotFound("study"));
    }
    Ok(DomainEvent::StudyDeleted {
        study_id: id,
        study_name: name.to_owned(),
        actor,
        members,
    })
}

/// Searches studies. Private studies appear only to their members.
pub fn list(tx: &mut dyn Tx, caller: Caller, query: StudyQuery) -> Result<Page<Study>> {
    let account = super::account(tx, caller, Utc::now())?;
    let kind =
        crate::permissions::ActorKind::classify(account.as_ref().map(|a| (a.role, a.status)), None);
    crate::permissions::require(Operation::ListStudies, kind, false)?;
    // Visibility as a correlated EXISTS rather than through the viewer's joined
    // membership: the filter then needs nothing but the study row, so the default
    // order can walk `studies_newest` and stop after one page.
    let mut filter = Filter::new(
        "s.deleted_at IS NULL AND (s.is_public = TRUE OR EXISTS (SELECT 1 FROM memberships v WHERE v.study_id = s.id AND v.user_id = ? AND v.status = 'ACTIVE'))",
        [Value::from(caller)],
    );
    if let Some(k) = query
        .keyword
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        let k = validate::text("keyword", k, 1, 100)?;
        filter.and_contains(&["s.name", "s.description"], &k);
    }
    if let Some(c) = query
        .category
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        filter.and("s.category = ?", [Value::from(c)]);
    }
    if let Some(t) = query
        .tag
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        filter.and(
            "EXISTS (SELECT 1 FROM study_tags t WHERE t.study_id = s.id AND t.tag = ?)",
            [Value::from(t.to_lowercase())],
        );
    }
    filter.and_some("s.is_recruiting = ?", query.recruiting);
    let order = match query.sort.unwrap_or(StudySort::Newest) {
        StudySort::Newest => "s.created_at DESC, s.id",
        StudySort::Name => "s.name ASC, s.id",
        StudySort::Members => "s.member_count DESC, s.created_at DESC, s.id",
    };
    Listing {
        count: Sql::new("SELECT COUNT(*) FROM studies s", []),
        select: study_select(caller),
        order,
    }
    .page(tx, &filter, query.page_request(), load_studies)
}

/// The caller's studies (active memberships, plus pending ones when asked).
pub fn my_studies(tx: &mut dyn Tx, caller: Caller, query: MyStudiesQuery) -> Result<Page<Study>> {
    let me = require_account(tx, caller, Operation::ListMyStudies)?;
    let mut filter = Filter::new("s.deleted_at IS NULL AND m.user_id IS NOT NULL", []);
    if !query.include_pending {
        filter.and("m.status = ?", [Value::from(MemberStatus::Active)]);
    }
    filter.and_some("m.role = ?", query.role);
    // Both join the caller's membership as `m` (the select for their role).
    Listing {
        count: Sql::new(
            "SELECT COUNT(*) FROM studies s LEFT JOIN memberships m ON m.study_id = s.id AND m.user_id = ?",
            [Value::from(me.id)],
        ),
        select: study_select(Some(me.id)),
        order: "m.requested_at DESC, s.id",
    }
    .page(
        tx,
        &filter,
        query.page_request(),
        load_studies,
    )
}

/// A study's invite code (OWNER and ADMINs).
pub fn invite_code(tx: &mut dyn Tx, caller: Caller, id: StudyId) -> Result<InviteCode> {
    require_study(tx, caller, id, Operation::ManageInviteCode)?;
    let r = tx.query_one(
        "SELECT invite_code FROM studies WHERE id = ?",
        params![id],
        "study",
    )?;
    Ok(InviteCode {
        study_id: id,
        invite_code: r.text("invite_code")?,
    })
}

/// Replaces a study's invite code; the old one stops working.
pub fn regenerate_invite_code(
    tx: &mut dyn Tx,
    caller: Caller,
    id: StudyId,
) -> Result<Outcome<InviteCode>> {
    require_study(tx, caller, id, Operation::ManageInviteCode)?;
    let code = auth::new_invite_code();
    tx.execute(
        "UPDATE studies SET invite_code = ?, updated_at = ? WHERE id = ?",
        params![&code, Utc::now(), id],
    )?;
    quiet(InviteCode {
        study_id: id,
        invite_code: code,
    })
}

/// Whether a study exists and is visible to the caller (used by reports).
pub(crate) fn visible(tx: &mut dyn Tx, caller: Caller, id: StudyId) -> Result<bool> {
    match study_access(tx, caller, id) {
        Ok(_) => Ok(true),
        Err(Error::NotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}
