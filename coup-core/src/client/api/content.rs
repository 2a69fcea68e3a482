//! A study's content: notices, calendar and chat (the server's
//! `routes/content.rs`).

use reqwest::Method;

use crate::api::calendar::{EventPatch, NewEvent, Range};
use crate::api::chat::{ChangesQuery, ChatQuery, ReadPosition, SendMessage};
use crate::api::notices::{NewNotice, NoticePatch, Pin};
use crate::api::paths;
use crate::error::Result;
use crate::ids::{EventId, MessageId, NoticeId, StudyId};
use crate::model::{CalendarEvent, ChatChanges, ChatMessage, ChatPage, Notice, Page, PageRequest};

use super::ApiClient;

impl ApiClient {
    // Notices.

    /// `GET /api/studies/{id}/notices`.
    pub async fn notices(&self, study: StudyId, page: PageRequest) -> Result<Page<Notice>> {
        self.get_query(&paths::fill(paths::NOTICES, &[&study]), &page)
            .await
    }

    /// `POST /api/studies/{id}/notices`.
    pub async fn create_notice(&self, study: StudyId, input: &NewNotice) -> Result<Notice> {
        self.send_json(Method::POST, &paths::fill(paths::NOTICES, &[&study]), input)
            .await
    }

    /// `GET /api/studies/{id}/notices/{noticeId}` (counts a view).
    pub async fn notice(&self, study: StudyId, notice: NoticeId) -> Result<Notice> {
        self.get(&paths::fill(paths::NOTICE, &[&study, &notice]))
            .await
    }

    /// `PATCH /api/studies/{id}/notices/{noticeId}`.
    pub async fn update_notice(
        &self,
        study: StudyId,
        notice: NoticeId,
        patch: &NoticePatch,
    ) -> Result<Notice> {
        self.send_json(
            Method::PATCH,
            &paths::fill(paths::NOTICE, &[&study, &notice]),
            patch,
        )
        .await
    }

    /// `POST /api/studies/{id}/notices/{noticeId}/pin`: sets the pin, or toggles it
    /// when `pin.is_pinned` is `None`.
    pub async fn pin_notice(&self, study: StudyId, notice: NoticeId, pin: &Pin) -> Result<Notice> {
        self.send_json(
            Method::POST,
            &paths::fill(paths::NOTICE_PIN, &[&study, &notice]),
            pin,
        )
        .await
    }

    /// `DELETE /api/studies/{id}/notices/{noticeId}`.
    pub async fn delete_notice(&self, study: StudyId, notice: NoticeId) -> Result<()> {
        self.delete(&paths::fill(paths::NOTICE, &[&study, &notice]))
            .await
    }

    // Calendar.

    /// `GET /api/studies/{id}/calendar`: the events overlapping `range`.
    pub async fn events(&self, study: StudyId, range: &Range) -> Result<Vec<CalendarEvent>> {
        self.get_query(&paths::fill(paths::EVENTS, &[&study]), range)
            .await
    }

    /// `POST /api/studies/{id}/calendar`.
    pub async fn create_event(&self, study: StudyId, input: &NewEvent) -> Result<CalendarEvent> {
        self.send_json(Method::POST, &paths::fill(paths::EVENTS, &[&study]), input)
            .await
    }

    /// `PATCH /api/studies/{id}/calendar/{eventId}`.
    pub async fn update_event(
        &self,
        study: StudyId,
        event: EventId,
        patch: &EventPatch,
    ) -> Result<CalendarEvent> {
        self.send_json(
            Method::PATCH,
            &paths::fill(paths::EVENT, &[&study, &event]),
            patch,
        )
        .await
    }

    /// `DELETE /api/studies/{id}/calendar/{eventId}`.
    pub async fn delete_event(&self, study: StudyId, event: EventId) -> Result<()> {
        self.delete(&paths::fill(paths::EVENT, &[&study, &event]))
            .await
    }

    // Chat.

    /// `GET /api/studies/{id}/chat`: a page by sequence cursor.
    pub async fn messages(&self, study: StudyId, query: &ChatQuery) -> Result<ChatPage> {
        self.get_query(&paths::fill(paths::MESSAGES, &[&study]), query)
            .await
    }

    /// `GET /api/studies/{id}/chat/changes`: the study's chat changes after a
    /// change number.
    pub async fn chat_changes(&self, study: StudyId, query: &ChangesQuery) -> Result<ChatChanges> {
        self.get_query(&paths::fill(paths::MESSAGE_CHANGES, &[&study]), query)
            .await
    }

    /// `POST /api/studies/{id}/chat`; with a `clientId`, sending again returns the
    /// first message.
    pub async fn send_message(&self, study: StudyId, input: &SendMessage) -> Result<ChatMessage> {
        self.send_json(
            Method::POST,
            &paths::fill(paths::MESSAGES, &[&study]),
            input,
        )
        .await
    }

    /// `GET /api/studies/{id}/chat/{messageId}`.
    pub async fn message(&self, study: StudyId, message: MessageId) -> Result<ChatMessage> {
        self.get(&paths::fill(paths::MESSAGE, &[&study, &message]))
            .await
    }

    /// `DELETE /api/studies/{id}/chat/{messageId}`: leaves a tombstone.
    pub async fn delete_message(&self, study: StudyId, message: MessageId) -> Result<()> {
        self.delete(&paths::fill(paths::MESSAGE, &[&study, &message]))
            .await
    }

    /// `POST /api/studies/{id}/chat/{messageId}/read`: read up to this message.
    pub async fn mark_message_read(
        &self,
        study: StudyId,
        message: MessageId,
    ) -> Result<ReadPosition> {
        self.post_empty(&paths::fill(paths::MESSAGE_READ, &[&study, &message]))
            .await
    }
}
