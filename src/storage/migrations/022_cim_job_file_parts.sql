-- CIM import jobs keep their uploaded files in parts of at most 256 KiB (64 KiB today) (docs/cim-profile.md,
-- "Parsing off the request path"): each part is one short statement, so queuing or reading a
-- 60 MB model never holds the embedded database (which runs one statement at a time) for seconds.
-- Parts are stored uncompressed: XML compresses well, but compressing it costs more time than the
-- space is worth for files kept only until their job finishes.
ALTER TABLE cim_import_job_file ADD COLUMN part integer NOT NULL DEFAULT 0;
ALTER TABLE cim_import_job_file DROP CONSTRAINT cim_import_job_file_pkey;
ALTER TABLE cim_import_job_file ADD PRIMARY KEY (job_id, seq, part);
ALTER TABLE cim_import_job_file ALTER COLUMN content SET STORAGE EXTERNAL;

-- A job is written before its parts and becomes visible and claimable once they all are; one whose
-- upload never finished (the hub stopped) is deleted when its lease_until has passed.
ALTER TABLE cim_import_job ADD COLUMN uploaded boolean NOT NULL DEFAULT true;
