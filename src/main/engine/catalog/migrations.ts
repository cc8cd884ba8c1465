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
  {
    version: 4,
    name: 'thumbnails, analyses, annotations, decisions, calibrations and resumable imports',
    sql: `
      -- The face the reviewer works with; null means the largest (idx 0).
      ALTER TABLE portraits ADD COLUMN primary_idx INTEGER;
      CREATE TABLE thumbnails (
        sha256 TEXT PRIMARY KEY REFERENCES originals (sha256),
        format TEXT NOT NULL,
        width  INTEGER NOT NULL CHECK (width > 0),
        height INTEGER NOT NULL CHECK (height > 0),
        data   BLOB NOT NULL
      ) STRICT;
      -- Cached results: the key hashes kind, inputs, parameters and model hashes, so a result is
      -- reused only for exactly what produced it.
      CREATE TABLE analyses (
        id         INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,
        key        TEXT NOT NULL CHECK (length(key) = 64),
        inputs     TEXT NOT NULL,
        params     TEXT NOT NULL,
        models     TEXT NOT NULL,
        result     TEXT NOT NULL,
        payload    BLOB,
        created_at TEXT NOT NULL,
        UNIQUE (kind, key)
      ) STRICT;
      CREATE TABLE annotations (
        id          INTEGER PRIMARY KEY,
        target_kind TEXT NOT NULL CHECK (target_kind IN ('portrait', 'face', 'subject', 'decision')),
        target      TEXT NOT NULL,
        author      TEXT NOT NULL,
        body        TEXT NOT NULL,
        region      TEXT,
        created_at  TEXT NOT NULL
      ) STRICT;
      CREATE INDEX annotations_target ON annotations (target_kind, target);
      -- A reviewer's conclusion on a pair, with the evidence shown when it was made. Never edited:
      -- a changed mind is a new decision that supersedes the old one.
      CREATE TABLE decisions (
        id         INTEGER PRIMARY KEY,
        face_a     INTEGER NOT NULL REFERENCES faces (id),
        face_b     INTEGER NOT NULL REFERENCES faces (id),
        conclusion TEXT NOT NULL CHECK (conclusion IN ('same', 'different', 'inconclusive')),
        rationale  TEXT NOT NULL,
        evidence   TEXT NOT NULL,
        author     TEXT NOT NULL,
        supersedes INTEGER REFERENCES decisions (id),
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
        BEGIN SELECT RAISE(ABORT, 'decisions are never edited; record a new one that supersedes it'); END;
      CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
        BEGIN SELECT RAISE(ABORT, 'decisions are never deleted'); END;
      CREATE TABLE calibrations (
        id           INTEGER PRIMARY KEY,
        name         TEXT NOT NULL,
        model_id     TEXT NOT NULL,
        model_sha256 TEXT NOT NULL CHECK (length(model_sha256) = 64),
        method       TEXT NOT NULL CHECK (method IN ('logistic', 'pav')),
        params       TEXT NOT NULL,
        threshold    REAL NOT NULL,
        provenance   TEXT NOT NULL,
        figures      TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        UNIQUE (name, model_id, model_sha256, method)
      ) STRICT;
      -- An import's expanded file list, so that a run stopped by a crash continues where it stopped.
      CREATE TABLE import_runs (
        id          INTEGER PRIMARY KEY,
        params      TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('running', 'done', 'cancelled')),
        total       INTEGER NOT NULL,
        started_at  TEXT NOT NULL,
        finished_at TEXT
      ) STRICT;
      CREATE TABLE import_items (
        run_id  INTEGER NOT NULL REFERENCES import_runs (id),
        idx     INTEGER NOT NULL,
        path    TEXT NOT NULL,
        subject TEXT,
        status  TEXT NOT NULL CHECK (status IN ('pending', 'added', 'duplicate', 'error')),
        sha256  TEXT,
        message TEXT,
        PRIMARY KEY (run_id, idx)
      ) STRICT;
      CREATE INDEX import_items_pending ON import_items (run_id, status);
    `,
  },
  {
    version: 5,
    name: "decisions on paper 003's five-point scale",
    sql: `
      -- 1 sure same, 2 think same, 3 not sure, 4 think different, 5 sure different (003, Fig. 7).
      ALTER TABLE decisions ADD COLUMN scale INTEGER CHECK (scale BETWEEN 1 AND 5);
    `,
  },
  {
    version: 6,
    name: 'indexes for filtering the catalog by face quality',
    sql: `
      -- The Catalog screen's quality filters (catalog/browse.ts uses these exact expressions).
      CREATE INDEX faces_score ON faces (score);
      CREATE INDEX faces_width ON faces (width);
      CREATE INDEX faces_inter_ocular ON faces (json_extract(quality, '$.interOcular'));
      CREATE INDEX faces_sharpness ON faces (json_extract(quality, '$.sharpness'));
      CREATE INDEX portraits_state ON portraits (state);
    `,
  },
  {
    version: 7,
    name: 'examiner assessments, FISWG checklists and blind verification (ACE-V)',
    sql: `
      -- The examiner's look at a pair before Facet's score is shown, or the recorded choice to see
      -- the score without one (kind 'skipped'). Never edited: a later assessment is a new row.
      CREATE TABLE assessments (
        id         INTEGER PRIMARY KEY,
        face_a     INTEGER NOT NULL REFERENCES faces (id),
        face_b     INTEGER NOT NULL REFERENCES faces (id),
        examiner   TEXT NOT NULL CHECK (length(examiner) > 0),
        kind       TEXT NOT NULL CHECK (kind IN ('assessment', 'skipped')),
        portraits  TEXT,
        hp         TEXT,
        hd         TEXT,
        created_at TEXT NOT NULL,
        CHECK ((kind = 'assessment') = (portraits IS NOT NULL AND hp IS NOT NULL AND hd IS NOT NULL))
      ) STRICT;
      CREATE INDEX assessments_pair ON assessments (face_a, face_b);
      CREATE TRIGGER assessments_no_update BEFORE UPDATE ON assessments
        BEGIN SELECT RAISE(ABORT, 'assessments are never edited; record a new one'); END;
      CREATE TRIGGER assessments_no_delete BEFORE DELETE ON assessments
        BEGIN SELECT RAISE(ABORT, 'assessments are never deleted'); END;
      -- FISWG component findings (JSON), whether the decision verified another examiner's, and the
      -- assessment it followed.
      ALTER TABLE decisions ADD COLUMN checklist TEXT;
      ALTER TABLE decisions ADD COLUMN role TEXT CHECK (role IN ('examination', 'verification'));
      ALTER TABLE decisions ADD COLUMN assessment_id INTEGER REFERENCES assessments (id);
      CREATE INDEX decisions_pair ON decisions (face_a, face_b);
    `,
  },
  {
    version: 8,
    name: 'covering indexes for the catalog quality filters',
    sql: `
      -- A quality filter reads only the index (value, portrait, face number) and the portrait's
      -- state and primary face: no table row per matching face (3x faster at 100k portraits).
      DROP INDEX faces_score;
      DROP INDEX faces_width;
      DROP INDEX faces_inter_ocular;
      DROP INDEX faces_sharpness;
      CREATE INDEX faces_score ON faces (score, portrait, idx);
      CREATE INDEX faces_width ON faces (width, portrait, idx);
      CREATE INDEX faces_inter_ocular ON faces (json_extract(quality, '$.interOcular'), portrait, idx);
      CREATE INDEX faces_sharpness ON faces (json_extract(quality, '$.sharpness'), portrait, idx);
      CREATE INDEX portraits_primary ON portraits (sha256, state, primary_idx, subject_id);
    `,
  },
];

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]?.version ?? 0;
