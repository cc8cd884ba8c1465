/**
 * Case reports and the calibration choice, on real analysed LFW portraits in a real catalog:
 * reports hold the right hashes, LRs, decisions and audit entries; HTML regenerates byte for byte
 * and the PDF's text (read back by pdf.js) holds the same facts; the chosen calibration drives
 * verification, says so, persists in the catalog and survives a restart.
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/main/engine';
import { auditMatches } from '../../src/main/engine/catalog/audit';
import { createRouter } from '../../src/main/transport/router';
import { hasSharedData, REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';
import { pdfText } from '../helpers/pdf';

const MODELS_DIR = path.join(REPO_ROOT, 'resources/models');
const IMAGES = path.join(SHARED_DATA, 'lfw/images');
const lfw = (person: string, n: number): string => path.join(IMAGES, person, `${person}_${String(n).padStart(4, '0')}.jpg`);
const PEOPLE = ['Colin_Powell', 'George_W_Bush', 'Tony_Blair', 'Donald_Rumsfeld', 'Gerhard_Schroeder', 'Ariel_Sharon', 'Hugo_Chavez', 'Jean_Chretien'];

type Reply<T = never> = { ok: boolean; data?: T; error?: { code: string; message: string } };

describe.skipIf(!hasSharedData)('case reports and the calibration choice', () => {
  const tmp = tempDir('facet-reports-');
  const catalogDir = path.join(tmp.dir, 'catalog');
  let engine: Engine;
  let call: <T = never>(method: string, payload: unknown) => Promise<Reply<T>>;
  const sha: Record<string, string> = {};
  let faceA = 0;
  let faceB = 0;

  const open = (): void => {
    engine = createEngine({ catalogDir, modelsDir: MODELS_DIR });
    const router = createRouter(engine.handlers);
    call = (method, payload) => router.handle(method, payload) as never;
  };

  beforeAll(async () => {
    open();
    const files = [lfw('Colin_Powell', 1), lfw('Colin_Powell', 2), lfw('George_W_Bush', 1)];
    const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { paths: files, analyze: true, subjectFromFolder: true, recognizers: ['faceres', 'mobileface', 'faceapi-resnet'] } }).id);
    expect(job.state).toBe('succeeded');
    for (const o of engine.catalog.listOriginals(0, 10).items) sha[o.originalName] = o.sha256;
    const face = async (name: string): Promise<number> => (await call<{ faces: { id: number }[] }>('faces.list', { sha256: sha[name] })).data!.faces[0]!.id;
    faceA = await face('Colin_Powell_0001.jpg');
    faceB = await face('Colin_Powell_0002.jpg');
  }, 180_000);
  afterAll(async () => {
    await engine.close();
    tmp.cleanup();
  });

  const pair = () => ({ a: sha['Colin_Powell_0001.jpg']!, b: sha['Colin_Powell_0002.jpg']! });

  it('a pair report holds the images with their hashes, the overlays, the LRs with provenance, the decision and the audit entries', async () => {
    // The examiner reveals the score without an initial assessment (recorded as such), then decides.
    const seen = await call('assessments.record', { faceA, faceB, examiner: 'Examiner One', kind: 'skipped' });
    expect(seen.ok, JSON.stringify(seen.error)).toBe(true);
    const rec = await call<{ id: number }>('decisions.record', {
      faceA,
      faceB,
      conclusion: 'same',
      scale: 2,
      rationale: 'Same ear shape & a mole under the left eye <checked>',
      examiner: 'Examiner One',
    });
    expect(rec.ok, JSON.stringify(rec.error)).toBe(true);
    const verify = (await call<{ systems: { system: string; modelSha256: string; evidence: { method: string; lr: number; verbal: string; calibration: { name: string; provenance: { pairListSha256: string } } }[] }[] }>('verify.pair', { a: { sha256: pair().a }, b: { sha256: pair().b } })).data!;
    const fusion = verify.systems.find((s) => s.system === 'fusion')!;
    const logistic = fusion.evidence.find((e) => e.method === 'logistic')!;

    const r = await call<{ content: string; sha256: string; encoding: string; fileName: string; bytes: number }>('reports.export', { pair: pair(), format: 'html' });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    const html = r.data!.content;
    expect(r.data!.encoding).toBe('utf8');
    expect(r.data!.fileName).toBe(`facet-pair-${pair().a.slice(0, 8)}-${pair().b.slice(0, 8)}.html`);
    // The images, inline, with the SHA-256 of the stored originals (which really hash to it).
    for (const s of [pair().a, pair().b]) expect(html).toContain(`SHA-256 <span class="hash">${s}</span>`);
    const original = await readFile(engine.catalog.store.pathFor(pair().a));
    expect(html).toContain(`data:image/jpeg;base64,${original.toString('base64')}`);
    // Self-contained: no script, nothing fetched.
    expect(html).not.toMatch(/<script|src="http|href="http/);
    expect(html.match(/<img src="data:image\/png;base64,/g)).toHaveLength(3); // two overlays and the bare map
    // The fused LR as verification computes it, its verbal scale and its calibration's provenance.
    expect(html).toContain(logistic.verbal);
    const lrText = logistic.lr >= 1000 || logistic.lr < 0.001 ? logistic.lr.toExponential(2) : logistic.lr.toPrecision(3);
    expect(html).toContain(`likelihood ratio ${lrText}`);
    expect(html).toContain(logistic.calibration.provenance.pairListSha256);
    expect(html).toContain('Calibration set &#34;lfw-view1&#34;');
    for (const s of verify.systems) expect(html).toContain(s.modelSha256);
    // The decision, escaped, with its scale in words; the audit entries about it.
    expect(html).toContain('Same ear shape &#38; a mole under the left eye &#60;checked&#62;');
    expect(html).toContain('2. Think they are the same person');
    expect(html).toContain(`data-decision="${rec.data!.id}"`);
    for (const action of ['original.add', 'portrait.analyze', 'decision.record']) expect(html).toContain(`<td>${action}</td>`);
    // George W Bush's portrait is not part of this pair: his entries stay out.
    expect(html).not.toContain(sha['George_W_Bush_0001.jpg']!);

    // The export is audited, and regenerating from the same state gives the same bytes.
    const again = await call<{ content: string; sha256: string }>('reports.export', { pair: pair(), format: 'html' });
    expect(again.data!.sha256).toBe(r.data!.sha256);
    expect(again.data!.content === html).toBe(true);
    const exports = engine.catalog.audit.list(5).filter((e) => e.action === 'report.export');
    expect(exports).toHaveLength(2);
    expect(exports[0]!.details).toMatchObject({ reportSha256: r.data!.sha256, format: 'html' });
    expect(html).not.toContain('report.export');
  }, 120_000);

  it('the PDF holds the same facts, dated by the catalog state, and regenerates identically', async () => {
    const out = path.join(tmp.dir, 'out', 'pair.pdf');
    const r = await call<{ content: string; sha256: string; encoding: string; file: string }>('reports.export', { pair: pair(), format: 'pdf', outFile: out });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    const bytes = Buffer.from(r.data!.content, 'base64');
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect((await readFile(out)).equals(bytes)).toBe(true);
    const { text, info } = await pdfText(bytes);
    for (const s of [pair().a, pair().b]) expect(text).toContain(s);
    const verify = (await call<{ systems: { system: string; evidence: { method: string; lr: number; verbal: string }[] }[] }>('verify.pair', { a: { sha256: pair().a }, b: { sha256: pair().b } })).data!;
    const logistic = verify.systems.find((s) => s.system === 'fusion')!.evidence.find((e) => e.method === 'logistic')!;
    expect(text).toContain(logistic.verbal);
    expect(text).toContain('Same ear shape & a mole under the left eye <checked>');
    expect(text).toContain('Think they are the same person');
    expect(text).toContain('decision.record');
    expect(text).toContain('lfw-view1');
    // Creation date: the newest audit entry that is not an export (the state the report shows).
    const newest = engine.catalog.audit.list(50).find((e) => e.action !== 'report.export')!;
    const stamp = newest.at.replace(/[-:T]/g, '').slice(0, 14);
    expect(String(info['CreationDate'])).toContain(stamp);

    const again = await call<{ content: string; sha256: string }>('reports.export', { pair: pair(), format: 'pdf' });
    const second = await pdfText(Buffer.from(again.data!.content, 'base64'));
    expect(second.text).toBe(text);
    // A fixed date, no embedded fonts and opaque images (no asynchronous alpha split): the very same bytes, every time.
    expect(again.data!.sha256).toBe(r.data!.sha256);
    const third = await call<{ sha256: string }>('reports.export', { pair: pair(), format: 'pdf' });
    expect(third.data!.sha256).toBe(r.data!.sha256);
  }, 120_000);

  it('a subject report lists their portraits with hashes and the decisions on their faces', async () => {
    const r = await call<{ content: string }>('reports.export', { subject: 'Colin_Powell', format: 'html' });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    const html = r.data!.content;
    expect(html).toContain('Facet case report: Subject Colin_Powell');
    for (const n of ['Colin_Powell_0001.jpg', 'Colin_Powell_0002.jpg']) expect(html).toContain(sha[n]!);
    expect(html).not.toContain(sha['George_W_Bush_0001.jpg']!);
    expect(html).toContain('Same ear shape &#38; a mole');
    expect(html).toContain('<td>subject.add</td>');
    const pdf = await call<{ content: string }>('reports.export', { subject: 'Colin_Powell', format: 'pdf' });
    const { text } = await pdfText(Buffer.from(pdf.data!.content, 'base64'));
    expect(text).toContain(sha['Colin_Powell_0002.jpg']!);
    expect(text).toContain('Subject Colin_Powell');
  }, 120_000);

  it('refuses unknown subjects, portraits and malformed requests in plain words', async () => {
    expect((await call('reports.export', { subject: 'Nobody_Here' })).error).toMatchObject({ code: 'not_found', message: expect.stringMatching(/no subject named "Nobody_Here"/) });
    expect((await call('reports.export', { pair: { a: 'a'.repeat(64), b: pair().b } })).error).toMatchObject({ code: 'not_found' });
    expect((await call('reports.export', { subject: 'x', pair: pair() })).error?.code).toBe('invalid_request');
    const none = (await call('reports.export', { format: 'pdf' })) as Reply & { error?: { issues?: { message: string }[] } };
    expect(none.error?.issues?.map((i) => i.message)).toContain('name either a pair or a subject');
  });

  it('matches audit entries by meaning, not by text', () => {
    const keys = { shas: new Set(['s1']), faceIds: new Set([7]), decisionIds: new Set([3]), subjects: new Set(['Ann']) };
    expect(auditMatches('portrait.analyze', { sha256: 's1', faces: 7 }, keys)).toBe(true);
    expect(auditMatches('portrait.analyze', { sha256: 's2', faces: 7 }, keys)).toBe(false); // a face count, not face 7
    expect(auditMatches('decision.record', { id: 3, faces: [1, 2] }, keys)).toBe(true);
    expect(auditMatches('assessment.record', { id: 9, faces: [7, 8] }, keys)).toBe(true);
    expect(auditMatches('annotation.add', { id: 1, target: { kind: 'face', id: '7' } }, keys)).toBe(true);
    expect(auditMatches('annotation.add', { id: 1, target: { kind: 'face', id: '8' } }, keys)).toBe(false);
    expect(auditMatches('subject.add', { name: 'Ann' }, keys)).toBe(true);
    expect(auditMatches('original.add', { sha256: 's3', name: 'Ann' }, keys)).toBe(false);
  });

  it('evaluation failures read plainly: a missing file, a malformed list, no analysable faces', async () => {
    const run = async (list: string): Promise<string> => {
      const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'eval.pairs', params: { list, images: IMAGES, folds: 2 } }).id);
      expect(job.state).toBe('failed');
      return job.error?.message ?? '';
    };
    expect(await run(path.join(tmp.dir, 'nope.txt'))).toMatch(/there is no file .*nope\.txt/);
    const bad = path.join(tmp.dir, 'bad.txt');
    writeFileSync(bad, 'Colin_Powell 1\nthis is not a pair line at all\n');
    expect(await run(bad)).toMatch(/malformed/);
    const absent = path.join(tmp.dir, 'absent.txt');
    writeFileSync(absent, 'Nobody_A 1 2\nNobody_B 1 Nobody_C 1\nNobody_D 1 2\nNobody_E 1 Nobody_F 1\n');
    expect(await run(absent)).toMatch(/no pair could be scored/);
  }, 60_000);

  it('a cancelled evaluation ends as cancelled (not failed), says what was kept, and stores nothing', async () => {
    const before = (await call<unknown[]>('calibrations.list', {})).data?.length;
    const list = path.join(SHARED_DATA, 'lfw/pairsDevTest.txt');
    const { id } = engine.jobs.start({ kind: 'eval.pairs', params: { list, images: IMAGES, folds: 2, saveCalibration: 'never' } });
    await new Promise<void>((resolve) => {
      const stop = engine.jobs.onUpdate((j) => {
        if (j.id === id && j.progress.done >= 3) {
          stop();
          resolve();
        }
      });
    });
    engine.jobs.cancel(id);
    const job = await engine.jobs.waitFor(id);
    expect(job.state).toBe('cancelled');
    expect(job.error).toBeNull();
    expect(job.progress.message).toMatch(/^Cancelled: .*nothing was written/);
    expect(job.progress.done).toBeLessThan(job.progress.total ?? 0);
    expect(before).toBeGreaterThan(0);
    expect((await call<unknown[]>('calibrations.list', {})).data?.length).toBe(before);
  }, 60_000);

  it('the chosen calibration drives verification, says so, is audited, and persists in the catalog', async () => {
    // A small catalog calibration from a real evaluation (it becomes the newest set: the default).
    const list = path.join(tmp.dir, 'mini-pairs.txt');
    const lines = [...PEOPLE.map((p) => `${p}\t1\t2`), ...PEOPLE.map((p, i) => `${p}\t1\t${PEOPLE[(i + 1) % PEOPLE.length]}\t1`)];
    writeFileSync(list, `${lines.join('\n')}\n`);
    const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'eval.pairs', params: { list, images: IMAGES, folds: 2, saveCalibration: 'mini' } }).id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const result = job.result as { plots: { name: string; spec: { title?: string } }[]; systems: { system: string }[] };
    expect(result.plots.map((p) => p.name)).toEqual(['roc', 'det', ...result.systems.map((s) => `tippett-${s.system}`)]);

    type V = { calibrationSet: string; calibrationChoice: { how: string; name: string | null }; systems: { evidence: { calibration: { name: string } }[] }[] };
    const verify = async (extra: object = {}): Promise<V> => (await call<V>('verify.pair', { a: { sha256: pair().a }, b: { sha256: pair().b }, ...extra })).data!;
    expect((await verify()).calibrationSet).toBe('mini');
    expect((await verify()).calibrationChoice).toEqual({ how: 'default', name: null });

    const chosen = await call<{ name: string; by: string; at: string }>('calibrations.select', { name: 'lfw-view1' });
    expect(chosen.ok).toBe(true);
    const v = await verify();
    expect(v.calibrationSet).toBe('lfw-view1');
    expect(v.calibrationChoice).toEqual({ how: 'selected', name: 'lfw-view1' });
    expect(v.systems.flatMap((s) => s.evidence.map((e) => e.calibration.name))).not.toContain('mini');
    // A request can still name another set, and says so.
    expect((await verify({ calibration: 'mini' })).calibrationChoice).toEqual({ how: 'requested', name: 'mini' });
    const listed = (await call<{ name: string; inUse: boolean; applicable: boolean }[]>('calibrations.list', {})).data!;
    expect(listed.filter((c) => c.inUse).every((c) => c.name === 'lfw-view1')).toBe(true);
    expect(listed.filter((c) => c.inUse).length).toBeGreaterThanOrEqual(6); // 3 recognizers + fusion, logistic and PAV
    expect(listed.some((c) => c.name === 'mini' && !c.inUse)).toBe(true);
    expect(engine.catalog.audit.list(3).map((e) => e.action)).toContain('calibration.select');
    // Reports and decisions follow the choice.
    const html = (await call<{ content: string }>('reports.export', { pair: pair() })).data!.content;
    expect(html).toContain('Calibration set &#34;lfw-view1&#34;, chosen for this catalog.');
    expect((await call('calibrations.select', { name: 'no-such-set' })).error).toMatchObject({ code: 'not_found', message: expect.stringMatching(/no calibration set named "no-such-set"/) });

    // The choice is in the catalog: it survives a restart.
    await engine.close();
    open();
    expect((await call<{ name: string }>('calibrations.selected', {})).data!.name).toBe('lfw-view1');
    expect((await verify()).calibrationSet).toBe('lfw-view1');
    await call('calibrations.select', { name: null });
    expect((await verify()).calibrationChoice).toEqual({ how: 'default', name: null });
    expect((await verify()).calibrationSet).toBe('mini');
  }, 240_000);

  it('a report made for a second examiner withholds the first decision and its audit entries until they decide (blind verification)', async () => {
    const forExaminer = async (examiner: string, req: object): Promise<string> => {
      const r = await call<{ content: string }>('reports.export', { ...req, format: 'html', examiner });
      expect(r.ok, JSON.stringify(r.error)).toBe(true);
      return r.data!.content;
    };
    const mine = await call<{ id: number; author: string }[]>('decisions.list', { face: faceA, examiner: 'Examiner One' });
    const first = mine.data!.find((d) => d.author === 'Examiner One')!.id;
    for (const req of [{ pair: pair() }, { subject: 'Colin_Powell' }]) {
      const blind = await forExaminer('Examiner Two', req);
      expect(blind).not.toContain('Same ear shape');
      expect(blind).not.toContain(`data-decision="${first}"`);
      expect(blind).not.toContain('<td>decision.record</td>');
      expect(blind).toContain('Prepared for Examiner Two: 1 decision by other examiners withheld (blind verification)');
      // Images, scores and the rest of the audit are still there.
      expect(blind).toContain(`SHA-256 <span class="hash">${pair().a}</span>`);
      expect(blind).toContain('<td>original.add</td>');
      // The author sees their own decision.
      expect(await forExaminer('Examiner One', req)).toContain('Same ear shape');
    }
    // Once Examiner Two has decided, both decisions are in their report.
    expect((await call('assessments.record', { faceA, faceB, examiner: 'Examiner Two', kind: 'skipped' })).ok).toBe(true);
    const second = await call<{ id: number }>('decisions.record', { faceA, faceB, conclusion: 'same', scale: 1, rationale: 'Verified: same scar', examiner: 'Examiner Two' });
    expect(second.ok, JSON.stringify(second.error)).toBe(true);
    const after = await forExaminer('Examiner Two', { pair: pair() });
    expect(after).toContain('Same ear shape');
    expect(after).toContain('Verified: same scar');
    expect(after).not.toContain('withheld');
  }, 120_000);
});
