/**
 * The audit log: every row carries the SHA-256 of the previous row's hash and its own content, so
 * an edited, inserted or deleted row breaks the chain at a point `verify` names.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export const GENESIS = '0'.repeat(64);

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  details: unknown;
  prevHash: string;
  hash: string;
}

interface Row {
  seq: number;
  at: string;
  actor: string;
  action: string;
  details: string;
  prev_hash: string;
  hash: string;
}

/** Key-sorted JSON, so the same details always hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function rowHash(prevHash: string, seq: number, at: string, actor: string, action: string, details: string): string {
  return createHash('sha256').update(canonicalJson([prevHash, seq, at, actor, action, details])).digest('hex');
}

export type AuditProblem =
  | { kind: 'edited'; seq: number }
  | { kind: 'broken-link'; seq: number; expectedPrev: string }
  | { kind: 'gap'; afterSeq: number; nextSeq: number }
  | { kind: 'truncated'; recordedSeq: number; lastSeq: number };

export interface AuditReport {
  entries: number;
  head: string;
  ok: boolean;
  problems: AuditProblem[];
}

export class AuditLog {
  /**
   * `headFile` keeps the last sequence number and hash outside the database: deleting rows from
   * the end of the chain leaves no broken link inside it, but no longer matches this file.
   */
  constructor(
    private readonly db: Database.Database,
    private readonly headFile?: string,
  ) {}

  private readHead(): { seq: number; hash: string } | undefined {
    if (!this.headFile || !existsSync(this.headFile)) return undefined;
    const [seq, hash] = readFileSync(this.headFile, 'utf8').trim().split(' ');
    return { seq: Number(seq), hash: hash ?? '' };
  }

  /** Appends one entry inside the caller's transaction (or its own). */
  append(actor: string, action: string, details: unknown): AuditEntry {
    const write = this.db.transaction((): AuditEntry => {
      const last = this.db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
      const seq = (last?.seq ?? 0) + 1;
      const prevHash = last?.hash ?? GENESIS;
      const at = new Date().toISOString();
      const text = canonicalJson(details);
      const hash = rowHash(prevHash, seq, at, actor, action, text);
      this.db
        .prepare('INSERT INTO audit_log (seq, at, actor, action, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(seq, at, actor, action, text, prevHash, hash);
      return { seq, at, actor, action, details, prevHash, hash };
    });
    const entry = this.db.inTransaction ? write() : write.immediate();
    // Inside a caller's transaction the head is written by syncHead() once that commits.
    if (!this.db.inTransaction) this.syncHead();
    return entry;
  }

  /** Records the committed chain's last entry in the head file. */
  syncHead(): void {
    // Inside a transaction the rows are not committed yet; the outermost caller syncs after commit.
    if (!this.headFile || this.db.inTransaction) return;
    const last = this.db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    if (!last) return;
    // Written aside and renamed: a crash mid-write never leaves a half-written head.
    const tmp = `${this.headFile}.tmp`;
    writeFileSync(tmp, `${last.seq} ${last.hash}\n`);
    renameSync(tmp, this.headFile);
  }

  list(limit = 100, beforeSeq?: number): AuditEntry[] {
    const rows = this.db
      .prepare(`SELECT * FROM audit_log ${beforeSeq ? 'WHERE seq < ?' : ''} ORDER BY seq DESC LIMIT ?`)
      .all(...(beforeSeq ? [beforeSeq, limit] : [limit])) as Row[];
    return rows.map((r) => ({
      seq: r.seq,
      at: r.at,
      actor: r.actor,
      action: r.action,
      details: JSON.parse(r.details) as unknown,
      prevHash: r.prev_hash,
      hash: r.hash,
    }));
  }

  /** Walks the whole chain; reports every row whose content or link does not check out. */
  verify(): AuditReport {
    const problems: AuditProblem[] = [];
    let prev = GENESIS;
    let prevSeq = 0;
    let entries = 0;
    for (const raw of this.db.prepare('SELECT * FROM audit_log ORDER BY seq').iterate()) {
      const r = raw as Row;
      entries++;
      if (r.seq !== prevSeq + 1) problems.push({ kind: 'gap', afterSeq: prevSeq, nextSeq: r.seq });
      if (r.prev_hash !== prev) problems.push({ kind: 'broken-link', seq: r.seq, expectedPrev: prev });
      if (rowHash(r.prev_hash, r.seq, r.at, r.actor, r.action, r.details) !== r.hash) problems.push({ kind: 'edited', seq: r.seq });
      prev = r.hash;
      prevSeq = r.seq;
    }
    // The head file is written just after each commit, so a crash can leave it one step behind:
    // that is not tampering as long as the row it names still carries the hash it recorded.
    const recorded = this.readHead();
    if (recorded) {
      const row = this.db.prepare('SELECT hash FROM audit_log WHERE seq = ?').get(recorded.seq) as { hash: string } | undefined;
      if (recorded.seq > prevSeq || row?.hash !== recorded.hash) {
        problems.push({ kind: 'truncated', recordedSeq: recorded.seq, lastSeq: prevSeq });
      }
    }
    return { entries, head: prev, ok: problems.length === 0, problems };
  }
}

export interface AuditKeys {
  shas: Set<string>;
  faceIds: Set<number>;
  decisionIds: Set<number>;
  subjects: Set<string>;
  /** Decisions withheld from the reader (blind verification): entries about them stay out. */
  withheld?: Set<number>;
}

/**
 * Whether an audit entry concerns these portraits, faces, decisions or subjects. The details'
 * shapes differ per action (and grow as features are added), so the walk looks at meaning-bearing
 * keys anywhere in the details rather than at one schema.
 */
export function auditMatches(action: string, details: unknown, k: AuditKeys): boolean {
  if (action.startsWith('decision.') && typeof (details as { id?: unknown })?.id === 'number' && k.decisionIds.has((details as { id: number }).id)) return true;
  if (action.startsWith('subject.')) {
    const d = details as { name?: unknown; subject?: unknown };
    if ((typeof d?.name === 'string' && k.subjects.has(d.name)) || (typeof d?.subject === 'string' && k.subjects.has(d.subject))) return true;
  }
  const walk = (v: unknown, key: string): boolean => {
    if (typeof v === 'string') return k.shas.has(v) || (key === 'subject' && k.subjects.has(v));
    if (typeof v === 'number') {
      if (['face', 'faceA', 'faceB', 'faceId', 'faces'].includes(key)) return k.faceIds.has(v) && key !== 'faces';
      if (['decision', 'decisionId', 'supersedes'].includes(key)) return k.decisionIds.has(v);
      return false;
    }
    if (Array.isArray(v)) return v.some((x) => (key === 'faces' && typeof x === 'number' ? k.faceIds.has(x) : walk(x, key)));
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      // Annotation targets: { kind, id } with the id as text.
      if (key === 'target' && typeof o['kind'] === 'string' && typeof o['id'] === 'string') {
        const id = o['id'];
        if (o['kind'] === 'portrait') return k.shas.has(id);
        if (o['kind'] === 'face') return k.faceIds.has(Number(id));
        if (o['kind'] === 'decision') return k.decisionIds.has(Number(id));
      }
      return Object.entries(o).some(([kk, vv]) => walk(vv, kk));
    }
    return false;
  };
  return walk(details, '');
}
