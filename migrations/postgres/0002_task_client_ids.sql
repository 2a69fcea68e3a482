-- CoUp schema, version 2 (PostgreSQL). Kept column-for-column equal to sqlite/0002_task_client_ids.sql.
-- A task created with a client id is created once: offline clients resend it
-- after a lost answer and get the first task back.
ALTER TABLE tasks ADD COLUMN client_id TEXT;
CREATE UNIQUE INDEX tasks_user_client_id ON tasks (user_id, client_id);
