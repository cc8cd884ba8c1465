/**
 * Numbered schema migrations. Append only: a released migration is never edited, because
 * catalogs in the field have already run it. Each runs in its own transaction.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'originals store',
    sql: `
      CREATE TABLE originals (
        sha256        TEXT PRIMARY KEY CHECK (length(sha256) = 64),
        bytes         INTEGER NOT NULL CHECK (bytes >= 0),
        format        TEXT NOT NULL,
        width         INTEGER NOT NULL CHECK (width > 0),
        height        INTEGER NOT NULL CHECK (height > 0),
        original_name TEXT NOT NULL,
        source_path   TEXT NOT NULL,
        imported_at   TEXT NOT NULL
      ) STRICT;
      CREATE INDEX originals_imported_at ON originals (imported_at);
      CREATE INDEX originals_name ON originals (original_name);
    `,
  },
  {
    version: 2,
    name: 'append-only, hash-chained audit log',
    sql: `
      CREATE TABLE audit_log (
        seq       INTEGER PRIMARY KEY,
        at        TEXT NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        details   TEXT NOT NULL,
        prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
        hash      TEXT NOT NULL CHECK (length(hash) = 64)
      ) STRICT;
      -- Through Facet the log only grows; edits made behind its back break the hash chain.
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    `,
  },
  {
    version: 3,
    name: 'subjects, portraits, faces and embeddings',
    sql: `
      CREATE TABLE subjects (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE portraits (
        sha256      TEXT PRIMARY KEY REFERENCES originals (sha256),
        subject_id  INTEGER REFERENCES subjects (id),
        state       TEXT NOT NULL CHECK (state IN ('pending', 'analyzed', 'failed')),
        error       TEXT,
        analyzed_at TEXT
      ) STRICT;
      CREATE INDEX portraits_subject ON portraits (subject_id);
      CREATE TABLE faces (
        id        INTEGER PRIMARY KEY,
        portrait  TEXT NOT NULL REFERENCES portraits (sha256) ON DELETE CASCADE,
        idx       INTEGER NOT NULL,
        x REAL NOT NULL, y REAL NOT NULL, width REAL NOT NULL, height REAL NOT NULL,
        score     REAL NOT NULL,
        five      TEXT NOT NULL,
        mesh      BLOB NOT NULL,
        quality   TEXT NOT NULL,
        UNIQUE (portrait, idx)
      ) STRICT;
      CREATE TABLE embeddings (
        face_id      INTEGER NOT NULL REFERENCES faces (id) ON DELETE CASCADE,
        model_id     TEXT NOT NULL,
        model_sha256 TEXT NOT NULL,
        dim          INTEGER NOT NULL,
        vector       BLOB NOT NULL,
        norm         REAL NOT NULL,
        PRIMARY KEY (face_id, model_id, model_sha256)
      ) STRICT;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]?.version ?? 0;
