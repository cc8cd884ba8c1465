/**
 * ACE-V rules on a real catalog of analysed LFW portraits: the initial assessment before a
 * decision, the FISWG checklist, blind verification (a verifier is never sent another examiner's
 * decision before recording their own) and disagreement between examiners.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/main/engine';
import { disagreementsOf } from '../../src/main/engine/catalog/examination';
import type { Decision } from '../../src/main/engine/catalog/review';
import { createRouter } from '../../src/main/transport/router';
import { FISWG_COMPONENTS } from '../../src/shared/examination';
import { hasSharedData, REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';

const MODELS_DIR = path.join(REPO_ROOT, 'resources/models');
const lfw = (person: string, n: number): string => path.join(SHARED_DATA, 'lfw/images', person, `${person}_${String(n).padStart(4, '0')}.jpg`);

const checklist = (finding: string, overrides: Record<string, string> = {}): Record<string, string> => ({
  ...Object.fromEntries(FISWG_COMPONENTS.map(([k]) => [k, finding])),
  ...overrides,
});
const portraits = {
  a: { quality: 'good', pose: 'frontal', lighting: 'even', occlusion: 'none' },
  b: { quality: 'fair', pose: 'turned', lighting: 'harsh', occlusion: 'partial' },
};
const propositions = { hp: 'Same person.', hd: 'Two different people of similar age.' };

describe.skipIf(!hasSharedData)('examination: assessment, checklist and blind verification', () => {
  const tmp = tempDir();
  let engine: Engine;
  type Reply = { ok: boolean; data?: never; error?: { code: string; message: string; issues?: { path: string; message: string }[] } };
  let call: (method: string, payload: unknown) => Promise<Reply>;
  const face: Record<string, number> = {};

  beforeAll(async () => {
    engine = createEngine({ catalogDir: path.join(tmp.dir, 'catalog'), modelsDir: MODELS_DIR });
    const router = createRouter(engine.handlers);
    call = (method, payload) => router.handle(method, payload) as Promise<Reply>;
    const files = [lfw('Colin_Powell', 1), lfw('Colin_Powell', 2), lfw('George_W_Bush', 1)];
    const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { paths: files, analyze: true, recognizers: ['faceres', 'mobileface'] } }).id);
    expect(job.state).toBe('succeeded');
    for (const o of engine.catalog.listOriginals(0, 10).items) {
      const listed = (await call('faces.list', { sha256: o.sha256 })).data as unknown as { faces: { id: number }[] };
      face[o.originalName.replace('.jpg', '')] = listed.faces[0]!.id;
    }
  }, 120_000);
  afterAll(async () => {
    await engine.close();
    tmp.cleanup();
  });

  it('records an initial assessment per examiner, append-only and audited; bad ones are refused with a reason', async () => {
    const a = face['Colin_Powell_0001']!;
    const b = face['George_W_Bush_0001']!;
    const noName = await call('assessments.record', { faceA: a, faceB: b, examiner: '  ', kind: 'skipped' });
    expect(noName.error?.code).toBe('invalid_request');
    expect(noName.error?.issues?.[0]).toMatchObject({ path: 'examiner', message: 'name the examiner' });
    const incomplete = await call('assessments.record', { faceA: a, faceB: b, examiner: 'Ana Ruiz', kind: 'assessment', portraits });
    expect(incomplete.error?.issues?.[0]).toMatchObject({ path: 'portraits', message: expect.stringMatching(/both propositions/) });
    expect((await call('assessments.record', { faceA: a, faceB: b, examiner: 'Ana Ruiz', kind: 'skipped', portraits })).error?.code).toBe('invalid_request');
    expect((await call('assessments.record', { faceA: a, faceB: b, examiner: 'Ana Ruiz', kind: 'assessment', portraits: { ...portraits, a: { ...portraits.a, pose: 'sideways' } }, propositions })).error?.code).toBe('invalid_request');
    expect((await call('assessments.record', { faceA: a, faceB: 99999, examiner: 'Ana Ruiz', kind: 'skipped' })).error?.code).toBe('not_found');

    const ok = await call('assessments.record', { faceA: a, faceB: b, examiner: 'Ana Ruiz', kind: 'assessment', portraits, propositions });
    expect(ok.ok, JSON.stringify(ok.error)).toBe(true);
    expect(ok.data).toMatchObject({ examiner: 'Ana Ruiz', kind: 'assessment', portraits, propositions });
    // Read in the other order, a and b follow the reader's faces.
    const reversed = (await call('review.pair', { faceA: b, faceB: a, examiner: 'Ana Ruiz' })).data as unknown as { assessment: { portraits: typeof portraits } };
    expect(reversed.assessment.portraits).toEqual({ a: portraits.b, b: portraits.a });
    // Another examiner sees none of it.
    expect(((await call('review.pair', { faceA: a, faceB: b, examiner: 'Ben Okafor' })).data as unknown as { assessment: unknown }).assessment).toBeNull();
    const entry = engine.catalog.audit.list(1)[0]!;
    expect(entry).toMatchObject({ actor: 'Ana Ruiz', action: 'assessment.record', details: { faces: [a, b], portraits } });
    expect(() => engine.catalog.db.prepare("UPDATE assessments SET kind = 'skipped'").run()).toThrow(/never edited/);
    expect(() => engine.catalog.db.prepare('DELETE FROM assessments').run()).toThrow(/never deleted/);
  });

  it('a decision needs the examiner\'s assessment first, carries the FISWG checklist, and is audited with it', async () => {
    const a = face['Colin_Powell_0001']!;
    const b = face['George_W_Bush_0001']!;
    const base = { faceA: a, faceB: b, conclusion: 'different', scale: 5, rationale: 'nose and chin differ', examiner: 'Ben Okafor' };
    // Ben has not assessed this pair yet.
    expect((await call('decisions.record', base)).error).toMatchObject({ code: 'conflict', message: expect.stringMatching(/initial assessment/) });
    expect((await call('decisions.record', { ...base, examiner: '' })).error?.code).toBe('invalid_request');

    const findings = checklist('similar', { nose: 'dissimilar', chin_jawline: 'dissimilar', ears: 'not_assessable' });
    const { chin_jawline: _c, ...missing } = findings;
    expect((await call('decisions.record', { ...base, examiner: 'Ana Ruiz', checklist: missing })).error?.issues?.[0]?.path).toBe('checklist.chin_jawline');
    expect((await call('decisions.record', { ...base, examiner: 'Ana Ruiz', checklist: { ...findings, nose: 'maybe' } })).error?.code).toBe('invalid_request');
    // The scale and the conclusion must say the same thing.
    expect((await call('decisions.record', { ...base, examiner: 'Ana Ruiz', scale: 2 })).error?.message).toMatch(/scale 2 means "same"/);

    const done = await call('decisions.record', { ...base, examiner: 'Ana Ruiz', checklist: findings });
    expect(done.ok, JSON.stringify(done.error)).toBe(true);
    const decision = done.data as unknown as { id: number; author: string; checklist: unknown; role: string; assessment: number };
    expect(decision).toMatchObject({ author: 'Ana Ruiz', checklist: findings, role: 'examination' });
    const listed = (await call('decisions.list', { face: a, examiner: 'Ana Ruiz' })).data as unknown as { id: number; checklist: unknown; assessment: number }[];
    expect(listed.find((d) => d.id === decision.id)).toMatchObject({ checklist: findings, assessment: decision.assessment });
    const entry = engine.catalog.audit.list(1)[0]!;
    expect(entry).toMatchObject({ actor: 'Ana Ruiz', action: 'decision.record', details: { id: decision.id, checklist: findings, role: 'examination', scale: 5 } });
    // Ana's own second opinion must supersede her first, not sit beside it.
    expect((await call('decisions.record', { ...base, examiner: 'Ana Ruiz', scale: 4 })).error?.message).toMatch(/already decided this pair/);
    expect(engine.catalog.audit.verify().ok).toBe(true);
  });

  it('blind verification: another examiner\'s decision is never sent before the verifier records theirs; then the disagreement is flagged', async () => {
    const a = face['Colin_Powell_0001']!;
    const b = face['George_W_Bush_0001']!;
    const anaRationale = 'nose and chin differ';
    // Ben opens the pair Ana decided: nothing of her decision reaches him, through any method.
    const pairRaw = await call('review.pair', { faceA: a, faceB: b, examiner: 'Ben Okafor' });
    expect(pairRaw.data).toMatchObject({ blind: true, withheld: 1, decisions: [], disagreements: [] });
    for (const reply of [pairRaw, await call('decisions.list', { face: a, examiner: 'Ben Okafor' }), await call('decisions.list', { examiner: 'Ben Okafor' })]) {
      const text = JSON.stringify(reply.data);
      expect(text).not.toContain(anaRationale);
      expect(text).not.toContain('Ana Ruiz');
    }
    const queue = (await call('review.queue', { examiner: 'Ben Okafor' })).data as unknown as { awaiting: { faceA: { faceId: number }; faceB: { faceId: number }; decidedBy: number }[]; disagreements: unknown[] };
    expect(queue.awaiting.map((q) => [q.faceA.faceId, q.faceB.faceId, q.decidedBy])).toEqual([[a, b, 1]]);
    expect(JSON.stringify(queue)).not.toContain('Ana Ruiz');
    expect(queue.disagreements).toEqual([]);
    // Ana's own queue: nothing awaits her, no disagreement yet.
    expect((await call('review.queue', { examiner: 'Ana Ruiz' })).data).toMatchObject({ awaiting: [], disagreements: [] });

    const anaId = ((await call('decisions.list', { face: a, examiner: 'Ana Ruiz' })).data as unknown as { id: number }[])[0]!.id;
    // The audit log read as Ben: Ana's decision entry is there (the chain stays whole) without its
    // conclusion, scale or checklist; read as Ana, or by the lab without an examiner, it is whole.
    type Entry = { seq: number; action: string; actor: string; details: { id?: number; conclusion?: string } | null; withheld?: true; hash: string };
    const audit = async (examiner?: string): Promise<Entry[]> => (await call('audit.list', { limit: 1000, ...(examiner ? { examiner } : {}) })).data as unknown as Entry[];
    const asBen = await audit('Ben Okafor');
    const full = await audit();
    const anaEntry = full.find((e) => e.action === 'decision.record' && e.details?.id === anaId)!;
    expect(anaEntry.details!.conclusion).toBe('different');
    expect(asBen.map((e) => [e.seq, e.hash])).toEqual(full.map((e) => [e.seq, e.hash]));
    expect(asBen.find((e) => e.seq === anaEntry.seq)).toMatchObject({ action: 'decision.record', details: null, withheld: true });
    expect(asBen.filter((e) => e.withheld)).toHaveLength(1);
    expect(JSON.stringify(asBen.find((e) => e.seq === anaEntry.seq))).not.toMatch(/different|checklist/);
    expect((await audit('Ana Ruiz')).find((e) => e.seq === anaEntry.seq)).toEqual(anaEntry);
    expect((await call('assessments.record', { faceA: b, faceB: a, examiner: 'Ben Okafor', kind: 'skipped' })).ok).toBe(true);
    // A verifier records beside the examiner's decision, never over it.
    expect((await call('decisions.record', { faceA: a, faceB: b, conclusion: 'same', scale: 2, rationale: 'x', examiner: 'Ben Okafor', supersedes: anaId })).error?.message).toMatch(/is Ana Ruiz's/);
    const ben = await call('decisions.record', { faceA: b, faceB: a, conclusion: 'inconclusive', scale: 3, rationale: 'pose too different to judge the nose', examiner: 'Ben Okafor', checklist: checklist('not_assessable') });
    expect(ben.ok, JSON.stringify(ben.error)).toBe(true);
    const benDecision = ben.data as unknown as { id: number; role: string };
    expect(benDecision.role).toBe('verification');

    // Now both are shown to Ben, and to Ana, with the disagreement (different conclusions).
    for (const examiner of ['Ben Okafor', 'Ana Ruiz']) {
      const state = (await call('review.pair', { faceA: a, faceB: b, examiner })).data as unknown as { blind: boolean; decisions: { author: string }[]; disagreements: { decisions: number[]; reason: string }[] };
      expect(state.blind).toBe(false);
      expect(state.decisions.map((d) => d.author).sort()).toEqual(['Ana Ruiz', 'Ben Okafor']);
      expect(state.disagreements).toEqual([expect.objectContaining({ decisions: [anaId, benDecision.id], reason: 'conclusions differ: different vs inconclusive' })]);
      const q = (await call('review.queue', { examiner })).data as unknown as { awaiting: unknown[]; disagreements: { faceA: { faceId: number }; disagreements: unknown[] }[] };
      expect(q.awaiting).toEqual([]);
      expect(q.disagreements).toHaveLength(1);
    }
    // Once Ben has decided, his log shows Ana's decision whole.
    expect((await audit('Ben Okafor')).find((e) => e.seq === anaEntry.seq)).toEqual(anaEntry);
    // A third examiner is blind to both.
    const cleo = (await call('review.pair', { faceA: a, faceB: b, examiner: 'Cleo Park' })).data as unknown as { blind: boolean; withheld: number; decisions: unknown[] };
    expect(cleo).toMatchObject({ blind: true, withheld: 2, decisions: [] });
    expect((await audit('Cleo Park')).filter((e) => e.withheld).map((e) => e.actor).sort()).toEqual(['Ana Ruiz', 'Ben Okafor']);
    expect(((await call('review.queue', { examiner: 'Cleo Park' })).data as unknown as { awaiting: { decidedBy: number }[] }).awaiting).toEqual([expect.objectContaining({ decidedBy: 2 })]);

    // Ben revises to agree: the superseded decision no longer counts, the flag goes.
    expect((await call('assessments.record', { faceA: a, faceB: b, examiner: 'Ben Okafor', kind: 'assessment', portraits, propositions })).ok).toBe(true);
    const revised = await call('decisions.record', { faceA: a, faceB: b, conclusion: 'different', scale: 4, rationale: 'on a second look the nose differs', examiner: 'Ben Okafor', supersedes: benDecision.id });
    expect(revised.ok, JSON.stringify(revised.error)).toBe(true);
    expect(((await call('review.pair', { faceA: a, faceB: b, examiner: 'Ana Ruiz' })).data as unknown as { disagreements: unknown[] }).disagreements).toEqual([]);
    expect(((await call('review.queue', { examiner: 'Ana Ruiz' })).data as unknown as { disagreements: unknown[] }).disagreements).toEqual([]);
    expect(engine.catalog.audit.verify().ok).toBe(true);
  });

  it('annotations are signed by the examiner who writes them', async () => {
    const target = { kind: 'face', id: String(face['Colin_Powell_0001']) };
    const added = await call('annotations.add', { target, body: 'mole left of the nose', examiner: 'Ana Ruiz' });
    expect(added.ok, JSON.stringify(added.error)).toBe(true);
    expect(added.data).toMatchObject({ author: 'Ana Ruiz' });
    expect(engine.catalog.audit.list(1)[0]).toMatchObject({ actor: 'Ana Ruiz', action: 'annotation.add' });
    expect((await call('annotations.add', { target, body: 'x', examiner: ' ' })).error?.code).toBe('invalid_request');
  });

  it('disagreement: another conclusion, or scales two or more apart; one examiner\'s own decisions and superseded ones never count', () => {
    let id = 0;
    const d = (author: string, scale: number | null, conclusion: Decision['conclusion'], supersededBy: number | null = null): Decision => ({
      id: ++id, faceA: 1, faceB: 2, conclusion, scale, rationale: '', evidence: null, author, supersedes: null, supersededBy, createdAt: '', checklist: null, role: null, assessment: null,
    });
    const reasons = (...ds: Decision[]): string[] => disagreementsOf(ds).map((x) => x.reason);
    expect(reasons(d('A', 1, 'same'), d('B', 2, 'same'))).toEqual([]);
    expect(reasons(d('A', 4, 'different'), d('B', 5, 'different'))).toEqual([]);
    expect(reasons(d('A', 2, 'same'), d('B', 3, 'inconclusive'))).toEqual(['conclusions differ: same vs inconclusive']);
    expect(reasons(d('A', 1, 'same'), d('B', 5, 'different'))).toEqual(['conclusions differ: same vs different']);
    // Without a scale the conclusion alone decides.
    expect(reasons(d('A', null, 'same'), d('B', 2, 'same'))).toEqual([]);
    expect(reasons(d('A', null, 'different'), d('B', 2, 'same'))).toEqual(['conclusions differ: different vs same']);
    expect(reasons(d('A', 1, 'same'), d('A', 5, 'different'))).toEqual([]);
    expect(reasons(d('A', 1, 'same', 99), d('B', 5, 'different'), d('A', 4, 'different'))).toEqual([]);
    // Three examiners: each disagreeing couple is named.
    expect(reasons(d('A', 1, 'same'), d('B', 2, 'same'), d('C', 5, 'different'))).toEqual(['conclusions differ: same vs different', 'conclusions differ: same vs different']);
  });
});
