-- CoUp schema, version 3 (PostgreSQL). Kept equal to sqlite/0003_study_listing_order.sql.
-- The listing walks it newest first and stops after one page, instead of
-- sorting every visible study on each request.
CREATE INDEX studies_newest ON studies (deleted_at, created_at DESC, id);
