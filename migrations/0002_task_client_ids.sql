-- CoUp schema, version 2: client ids on tasks.
-- A task created with a client id is created once: offline clients resend it
-- after a lost answer and get the first task back.
ALTER TABLE tasks ADD COLUMN client_id TEXT;
CREATE UNIQUE INDEX tasks_user_client_id ON tasks (user_id, client_id);
