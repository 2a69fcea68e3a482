-- The client cache, version 2: the change feed — where each study's changes
-- (deletions and read receipts too, not only messages) were delivered up to.

ALTER TABLE chat_cursors ADD COLUMN change INTEGER;
