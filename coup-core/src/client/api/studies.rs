//! Studies and membership: search, create, edit, delete, invite codes, joining
//! and leaving, requests, members and roles (the server's `routes/studies.rs`).

use reqwest::Method;

use crate::api::membership::{JoinRequest, RoleChange};
use crate::api::paths;
use crate::api::studies::{InviteCode, NewStudy, StudyPatch, StudyQuery};
use crate::error::Result;
use crate::ids::{StudyId, UserId};
use crate::model::{Member, Page, PageRequest, Study};

use super::ApiClient;

impl ApiClient {
    /// `GET /api/studies`: search (anonymous callers see public studies only).
    pub async fn studies(&self, query: &StudyQuery) -> Result<Page<Study>> {
        self.get_query(paths::STUDIES, query).await
    }

    /// `POST /api/studies`.
    pub async fn create_study(&self, input: &NewStudy) -> Result<Study> {
        self.send_json(Method::POST, paths::STUDIES, input).await
    }

    /// `GET /api/studies/{id}`.
    pub async fn study(&self, id: StudyId) -> Result<Study> {
        self.get(&paths::fill(paths::STUDY, &[&id])).await
    }

    /// `PATCH /api/studies/{id}`.
    pub async fn update_study(&self, id: StudyId, patch: &StudyPatch) -> Result<Study> {
        self.send_json(Method::PATCH, &paths::fill(paths::STUDY, &[&id]), patch)
            .await
    }

    /// `DELETE /api/studies/{id}`.
    pub async fn delete_study(&self, id: StudyId) -> Result<()> {
        self.delete(&paths::fill(paths::STUDY, &[&id])).await
    }

    /// `GET /api/studies/{id}/invite-code`.
    pub async fn invite_code(&self, id: StudyId) -> Result<InviteCode> {
        self.get(&paths::fill(paths::INVITE_CODE, &[&id])).await
    }

    /// `POST /api/studies/{id}/invite-code`: a new code; the old one stops working.
    pub async fn regenerate_invite_code(&self, id: StudyId) -> Result<InviteCode> {
        self.post_empty(&paths::fill(paths::INVITE_CODE, &[&id]))
            .await
    }

    /// `POST /api/studies/{id}/join`.
    pub async fn join_study(&self, id: StudyId, input: &JoinRequest) -> Result<Member> {
        self.send_json(Method::POST, &paths::fill(paths::JOIN, &[&id]), input)
            .await
    }

    /// `POST /api/studies/{id}/leave`.
    pub async fn leave_study(&self, id: StudyId) -> Result<()> {
        self.call_empty(self.request(Method::POST, &paths::fill(paths::LEAVE, &[&id])))
            .await
    }

    /// `GET /api/studies/{id}/join-requests`.
    pub async fn join_requests(&self, id: StudyId, page: PageRequest) -> Result<Page<Member>> {
        self.get_query(&paths::fill(paths::JOIN_REQUESTS, &[&id]), &page)
            .await
    }

    /// `GET /api/studies/{id}/members`.
    pub async fn members(&self, id: StudyId, page: PageRequest) -> Result<Page<Member>> {
        self.get_query(&paths::fill(paths::MEMBERS, &[&id]), &page)
            .await
    }

    /// `POST /api/studies/{id}/members/{userId}/approve`.
    pub async fn approve_member(&self, id: StudyId, user: UserId) -> Result<Member> {
        self.post_empty(&paths::fill(paths::MEMBER_APPROVE, &[&id, &user]))
            .await
    }

    /// `POST /api/studies/{id}/members/{userId}/reject`.
    pub async fn reject_member(&self, id: StudyId, user: UserId) -> Result<()> {
        self.call_empty(self.request(
            Method::POST,
            &paths::fill(paths::MEMBER_REJECT, &[&id, &user]),
        ))
        .await
    }

    /// `POST /api/studies/{id}/members/{userId}/role`.
    pub async fn change_role(
        &self,
        id: StudyId,
        user: UserId,
        change: &RoleChange,
    ) -> Result<Member> {
        self.send_json(
            Method::POST,
            &paths::fill(paths::MEMBER_ROLE, &[&id, &user]),
            change,
        )
        .await
    }

    /// `DELETE /api/studies/{id}/members/{userId}`: kick.
    pub async fn kick_member(&self, id: StudyId, user: UserId) -> Result<()> {
        self.delete(&paths::fill(paths::MEMBER, &[&id, &user]))
            .await
    }
}
