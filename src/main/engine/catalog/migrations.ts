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
];

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]?.version ?? 0;
