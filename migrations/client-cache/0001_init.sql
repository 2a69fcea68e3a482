-- The client cache, version 1: the schema of the first clients, which wrote no
-- `user_version` (and so read as 0); `IF NOT EXISTS` keeps their files as they are.

CREATE TABLE IF NOT EXISTS sessions (
    server  TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    token   TEXT NOT NULL,
    user    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    server   TEXT NOT NULL,
    account  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    parent   TEXT NOT NULL,
    id       TEXT NOT NULL,
    position INTEGER NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (server, account, kind, id)
);
CREATE INDEX IF NOT EXISTS records_parent ON records (server, account, kind, parent, position);
CREATE TABLE IF NOT EXISTS messages (
    server  TEXT NOT NULL,
    account TEXT NOT NULL,
    study   TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    id      TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (server, account, study, seq)
);
CREATE TABLE IF NOT EXISTS chat_cursors (
    server  TEXT NOT NULL,
    account TEXT NOT NULL,
    study   TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (server, account, study)
);
CREATE TABLE IF NOT EXISTS outbox_created (
    server     TEXT NOT NULL,
    account    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    task_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (server, account, client_id)
);
CREATE TABLE IF NOT EXISTS outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    server     TEXT NOT NULL,
    account    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    action     TEXT NOT NULL,
    state      TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_account ON outbox (server, account, id);
