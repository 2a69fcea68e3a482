-- CoUp schema, version 1: the tables every store (SQLite, PostgreSQL) runs.
-- Portable conventions shared with every backend: ids are UUID text, enums are
-- upper-case text, times are BIGINT milliseconds since the epoch (UTC), flags are
-- BOOLEAN. Every list and search the API does has an index below.

CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    email            TEXT NOT NULL UNIQUE,          -- stored lower-cased
    name             TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    bio              TEXT,
    avatar_url       TEXT,
    role             TEXT NOT NULL DEFAULT 'USER',
    status           TEXT NOT NULL DEFAULT 'ACTIVE',
    suspended_reason TEXT,
    suspended_until  BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    last_login_at    BIGINT
);
CREATE INDEX users_created ON users (created_at);
CREATE INDEX users_status ON users (status, created_at);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE studies (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    category      TEXT NOT NULL,
    max_members   BIGINT NOT NULL,
    member_count  BIGINT NOT NULL DEFAULT 0,      -- active members, kept by the membership rules
    is_public     BOOLEAN NOT NULL,
    join_policy   TEXT NOT NULL,
    is_recruiting BOOLEAN NOT NULL DEFAULT TRUE,
    invite_code   TEXT NOT NULL UNIQUE,
    owner_id      TEXT NOT NULL REFERENCES users (id),
    last_seq      BIGINT NOT NULL DEFAULT 0,      -- highest chat sequence number used
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    deleted_at    BIGINT
);
CREATE INDEX studies_listing ON studies (deleted_at, is_public, created_at);
CREATE INDEX studies_category ON studies (category, created_at);
CREATE INDEX studies_members ON studies (member_count);
CREATE INDEX studies_name ON studies (name);

CREATE TABLE study_tags (
    study_id TEXT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    PRIMARY KEY (study_id, tag)
);
CREATE INDEX study_tags_tag ON study_tags (tag, study_id);

CREATE TABLE memberships (
    study_id      TEXT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          TEXT NOT NULL,
    status        TEXT NOT NULL,
    message       TEXT,
    requested_at  BIGINT NOT NULL,
    joined_at     BIGINT,
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (study_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id, status);
CREATE INDEX memberships_study ON memberships (study_id, status, role);

CREATE TABLE notices (
    id         TEXT PRIMARY KEY,
    study_id   TEXT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    author_id  TEXT NOT NULL REFERENCES users (id),
    title      TEXT NOT NULL,
    content    TEXT NOT NULL,
    is_pinned  BOOLEAN NOT NULL DEFAULT FALSE,
    view_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX notices_study ON notices (study_id, is_pinned, created_at);

CREATE TABLE calendar_events (
    id          TEXT PRIMARY KEY,
    study_id    TEXT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    creator_id  TEXT NOT NULL REFERENCES users (id),
    title       TEXT NOT NULL,
    description TEXT,
    start_at    BIGINT NOT NULL,
    end_at      BIGINT NOT NULL,
    all_day     BOOLEAN NOT NULL DEFAULT FALSE,
    location    TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX calendar_events_study ON calendar_events (study_id, start_at);

CREATE TABLE tasks (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    study_id    TEXT REFERENCES studies (id) ON DELETE SET NULL,
    title       TEXT NOT NULL,
    description TEXT,
    due_at      BIGINT,
    priority    TEXT NOT NULL,
    is_done     BOOLEAN NOT NULL DEFAULT FALSE,
    done_at     BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX tasks_user ON tasks (user_id, is_done, due_at);
CREATE INDEX tasks_user_study ON tasks (user_id, study_id);

CREATE TABLE files (
    id             TEXT PRIMARY KEY,
    study_id       TEXT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    uploader_id    TEXT NOT NULL REFERENCES users (id),
    name           TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           BIGINT NOT NULL,
    storage_key    TEXT NOT NULL UNIQUE,
    download_count BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL
);
CREATE INDEX files_study ON files (study_id, created_at);

CREATE TABLE messages (
    id         TEXT PRIMARY KEY,
    study_id   TEXT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    author_id  TEXT NOT NULL REFERENCES users (id),
    content    TEXT NOT NULL,
    file_id    TEXT REFERENCES files (id) ON DELETE SET NULL,
    client_id  TEXT,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT,
    deleted_by TEXT,
    UNIQUE (study_id, seq),
    UNIQUE (study_id, author_id, client_id)
);
CREATE INDEX messages_author ON messages (author_id);

CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    study_id   TEXT,
    ref_id     TEXT,
    is_read    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);
CREATE INDEX notifications_unread ON notifications (user_id, is_read);

CREATE TABLE reports (
    id           TEXT PRIMARY KEY,
    reporter_id  TEXT NOT NULL REFERENCES users (id),
    target_type  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL,
    action       TEXT,
    note         TEXT,
    processed_by TEXT REFERENCES users (id),
    processed_at BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX reports_status ON reports (status, created_at);
CREATE INDEX reports_target ON reports (target_type, target_id);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    actor_id    TEXT NOT NULL REFERENCES users (id),
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    detail      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (created_at);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, created_at);
