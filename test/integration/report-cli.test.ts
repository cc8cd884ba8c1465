/**
 * The command line over reports and the calibration choice (the built `facet`): `facet report pair`
 * and `facet report subject` write the files the engine makes, `facet calibrations --use` keeps the
 * choice in the catalog, `facet doctor` names the catalog and the calibration in use, and
 * `facet audit log --examiner` reads the log as that examiner (blind verification).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/main/engine';
import { createRouter } from '../../src/main/transport/router';
import { FISWG_COMPONENTS } from '../../src/shared/examination';
import { hasSharedData, REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';
import { pdfText } from '../helpers/pdf';

const BIN = path.join(REPO_ROOT, 'bin/facet.js');
const lfw = (person: string, n: number): string => path.join(SHARED_DATA, 'lfw/images', person, `${person}_${String(n).padStart(4, '0')}.jpg`);

describe.skipIf(!hasSharedData)('facet report and facet calibrations --use', () => {
  const tmp = tempDir('facet-report-cli-');
  const catalog = path.join(tmp.dir, 'catalog');
  const sha: string[] = [];
  const facet = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, '--catalog', catalog, ...args], { encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(async () => {
    const engine = createEngine({ catalogDir: catalog, modelsDir: path.join(REPO_ROOT, 'resources/models') });
    const job = await engine.jobs.waitFor(
      engine.jobs.start({ kind: 'store.ingest', params: { paths: [lfw('Tony_Blair', 1), lfw('Tony_Blair', 2)], analyze: true, subjectFromFolder: true, recognizers: ['faceres', 'mobileface', 'faceapi-resnet'] } }).id,
    );
    expect(job.state).toBe('succeeded');
    sha.push(...engine.catalog.listOriginals(0, 10).items.map((o) => o.sha256).sort());
    // Ana decides the pair, for the audit log read as another examiner.
    const router = createRouter(engine.handlers);
    const call = async (method: string, payload: unknown) => {
      const r = (await router.handle(method, payload)) as { ok: boolean; data?: unknown; error?: unknown };
      if (!r.ok) throw new Error(`${method}: ${JSON.stringify(r.error)}`);
      return r.data;
    };
    const [faceA, faceB] = await Promise.all(sha.map(async (h) => ((await call('faces.list', { sha256: h })) as { faces: { id: number }[] }).faces[0]!.id));
    await call('assessments.record', { faceA, faceB, examiner: 'Ana Ruiz', kind: 'skipped' });
    await call('decisions.record', { faceA, faceB, conclusion: 'same', scale: 2, rationale: 'same ears', examiner: 'Ana Ruiz', checklist: Object.fromEntries(FISWG_COMPONENTS.map(([k]) => [k, 'similar'])) });
    await engine.close();
  }, 180_000);
  afterAll(() => tmp.cleanup());

  it('chooses a calibration, reports it in doctor, and writes pair and subject reports', async () => {
    const use = facet('calibrations', '--use', 'lfw-view1');
    expect(use.code, use.stderr).toBe(0);
    expect(use.stdout).toMatch(/^in use: "lfw-view1" \(chosen by .+\)$/m);
    expect(use.stdout).toMatch(/^\* +- +lfw-view1 +faceres +logistic/m);
    const doctor = facet('--json', 'doctor', '--no-verify');
    const report = JSON.parse(doctor.stdout) as { catalogDir: string; calibration: { name: string } };
    expect(report.catalogDir).toBe(catalog);
    expect(report.calibration.name).toBe('lfw-view1');
    expect(facet('calibrations', '--use', 'nope').stderr).toMatch(/there is no calibration set named "nope"; stored sets: lfw-view1 \[not_found\]/);

    const html = path.join(tmp.dir, 'out', 'pair.html');
    const r = facet('report', 'pair', sha[0]!, sha[1]!, '--out', html);
    expect(r.code, r.stderr).toBe(0);
    const written = readFileSync(html);
    const { createHash } = await import('node:crypto');
    expect(r.stdout).toContain(`sha256 ${createHash('sha256').update(written).digest('hex')}`);
    const text = written.toString('utf8');
    for (const s of sha) expect(text).toContain(s);
    expect(text).toContain('Calibration set &#34;lfw-view1&#34;, chosen for this catalog.');

    const pdf = path.join(tmp.dir, 'out', 'blair.pdf');
    const s = facet('report', 'subject', 'Tony_Blair', '--format', 'pdf', '--out', pdf);
    expect(s.code, s.stderr).toBe(0);
    const parsed = await pdfText(readFileSync(pdf));
    expect(parsed.text).toContain('Facet case report: Subject Tony_Blair');
    for (const h of sha) expect(parsed.text).toContain(h);

    const missing = facet('report', 'subject', 'Nobody');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('there is no subject named "Nobody" in this catalog [not_found]');
  }, 180_000);

  it('audit log --examiner: another examiner\'s undisclosed decision keeps its place without its content', () => {
    const asBen = facet('audit', 'log', '--limit', '100', '--examiner', 'Ben Okafor');
    expect(asBen.code, asBen.stderr).toBe(0);
    expect(asBen.stdout).toMatch(/Ana Ruiz\s+decision\.record\s+\(withheld: blind verification\)/);
    expect(asBen.stdout).not.toContain('"conclusion"');
    expect(facet('audit', 'log', '--limit', '100', '--examiner', 'Ana Ruiz').stdout).toContain('"conclusion":"same"');
    // The lab, reading with no examiner, sees every entry whole.
    expect(facet('audit', 'log', '--limit', '100').stdout).toContain('"conclusion":"same"');
  });
});
