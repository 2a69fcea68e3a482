-- The client cache, version 3: tokens leave the cache file for the app's session
-- store (moved on the next start, see `Cache::take_legacy_tokens`); several
-- accounts per server.

CREATE TABLE accounts (
    server    TEXT NOT NULL,
    account   TEXT NOT NULL,
    user      TEXT NOT NULL,
    last_used INTEGER NOT NULL,
    PRIMARY KEY (server, account)
);
INSERT INTO accounts (server, account, user, last_used) SELECT server, account, user, 0 FROM sessions;
CREATE TABLE legacy_tokens (
    server  TEXT NOT NULL,
    account TEXT NOT NULL,
    token   TEXT NOT NULL,
    PRIMARY KEY (server, account)
);
INSERT INTO legacy_tokens (server, account, token) SELECT server, account, token FROM sessions;
DROP TABLE sessions;
