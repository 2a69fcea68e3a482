-- CoUp schema, version 4: a change feed per study's chat.
-- Every change a subscriber must see — a message posted, a message deleted, a read
-- receipt moved — takes the study's next change number, so a client that resumes
-- after any absence gets deletions and receipts it missed, not only new messages.
ALTER TABLE studies ADD COLUMN last_change BIGINT NOT NULL DEFAULT 0;   -- highest change number used
ALTER TABLE messages ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;   -- the change that posted it
ALTER TABLE messages ADD COLUMN deleted_change BIGINT;                  -- the change that deleted it
ALTER TABLE memberships ADD COLUMN read_change BIGINT NOT NULL DEFAULT 0; -- the change of the last receipt
-- Existing history: messages keep their order as changes 1..last_seq; deletions
-- made before the feed existed show as tombstones when those messages replay.
UPDATE messages SET change_seq = seq;
UPDATE studies SET last_change = last_seq;
CREATE INDEX messages_changes ON messages (study_id, change_seq);
CREATE INDEX messages_deletions ON messages (study_id, deleted_change);
CREATE INDEX memberships_read_changes ON memberships (study_id, read_change);
