/**
 * The evaluation screen, the calibration choice and case reports in Chromium, with the real
 * models on LFW portraits: an evaluation of a small LFW pair list runs as a job and its ROC, DET
 * and Tippett plots are drawn by Vega (checked in the SVG: axis titles and line marks); a missing
 * pair list is explained in plain words; the chosen calibration shows on the Settings screen and
 * in the pair report downloaded from the pair review screen (HTML and PDF) and the subject report.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser';
import { hasSharedData, REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';
import { pdfText } from '../helpers/pdf';
import { serveBuiltApp, type ServedApp } from '../helpers/server';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts/e2e');
const IMAGES = path.join(SHARED_DATA, 'lfw/images');
const lfw = (person: string, n: number): string => path.join(IMAGES, person, `${person}_${String(n).padStart(4, '0')}.jpg`);
/** People with at least two LFW portraits: same-person pairs (1, 2) and different-people pairs (1 vs next 1). */
const PEOPLE = ['Colin_Powell', 'George_W_Bush', 'Tony_Blair', 'Donald_Rumsfeld', 'Gerhard_Schroeder', 'Ariel_Sharon', 'Hugo_Chavez', 'Jean_Chretien'];

describe.skipIf(!hasSharedData)('evaluation, calibration choice and case reports in Chromium', () => {
  const tmp = tempDir('facet-eval-e2e-');
  let app: ServedApp;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const sha: Record<string, string> = {};
  const list = path.join(tmp.dir, 'pairs-mini.txt');

  const api = async <T,>(method: string, body: unknown): Promise<T> =>
    page.evaluate(
      async ([m, b]) => {
        const res = await fetch(`/api/${m}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(b) });
        const json = await res.json();
        if (!json.ok) throw new Error(JSON.stringify(json.error));
        return json.data;
      },
      [method, body] as const,
    ) as Promise<T>;
  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
  /** The SVG Vega drew for a plot, once drawn. */
  const plotSvg = async (label: string): Promise<string> => {
    const host = page.locator(`[data-testid="plot-${label}"][data-state="drawn"]`);
    await host.locator('svg').first().waitFor({ timeout: 30_000 });
    return host.innerHTML();
  };
  const download = async (click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> => {
    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), click()]);
    const file = path.join(tmp.dir, 'downloads', d.suggestedFilename());
    mkdirSync(path.dirname(file), { recursive: true });
    await d.saveAs(file);
    return { name: d.suggestedFilename(), bytes: readFileSync(file) };
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const lines = [...PEOPLE.map((p) => `${p}\t1\t2`), ...PEOPLE.map((p, i) => `${p}\t1\t${PEOPLE[(i + 1) % PEOPLE.length]}\t1`)];
    writeFileSync(list, `${lines.join('\n')}\n`);
    app = await serveBuiltApp(path.join(tmp.dir, 'catalog'));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
    await page.goto(app.loginUrl);
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    // A few analysed faces in the catalog (LFW files read in place, subjects from their folders).
    const files = [lfw('Colin_Powell', 1), lfw('Colin_Powell', 2), lfw('George_W_Bush', 1)];
    const job = await api<{ id: string }>('jobs.start', { kind: 'store.ingest', params: { paths: files, analyze: true, subjectFromFolder: true, recognizers: ['faceres', 'mobileface', 'faceapi-resnet'] } });
    for (const t0 = Date.now(); ; ) {
      const j = await api<{ state: string }>('jobs.get', { id: job.id });
      if (j.state === 'succeeded') break;
      if (j.state !== 'running' && j.state !== 'queued') throw new Error(`the import ended ${j.state}`);
      if (Date.now() - t0 > 120_000) throw new Error('the import took over 2 minutes');
      await new Promise((r) => setTimeout(r, 500));
    }
    const { items } = await api<{ items: { sha256: string; originalName: string }[] }>('catalog.originals', { limit: 50 });
    for (const o of items) sha[o.originalName.replace('.jpg', '')] = o.sha256;
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    tmp.cleanup();
  });

  it('offers the LFW View-1 lists and explains a missing pair list in plain words', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Evaluation' }).click();
    await page.getByRole('heading', { name: 'Evaluation & calibration' }).waitFor();
    expect(await page.title()).toBe('Evaluation · Facet');
    await page.getByRole('button', { name: 'lfw/pairsDevTest.txt' }).waitFor();
    expect(await page.getByLabel(/^Pair list/).inputValue()).toBe(path.join(SHARED_DATA, 'lfw/pairsDevTest.txt'));
    await page.getByLabel(/^Pair list/).fill(path.join(tmp.dir, 'no-such-list.txt'));
    await page.getByRole('button', { name: 'Run the evaluation' }).click();
    const alert = page.getByTestId('eval-error');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/The pair list could not be opened\..*there is no file .*no-such-list\.txt/s);
    await shot('evaluation-error.png');
  });

  it('cancels a long evaluation (LFW View-1 DevTest, 1000 pairs) from its progress bar', async () => {
    await page.getByRole('button', { name: 'lfw/pairsDevTest.txt' }).click();
    await page.getByLabel(/LFW images folder/).fill('');
    await page.getByRole('button', { name: 'Run the evaluation' }).click();
    const job = page.locator('[data-testid="eval-job"] .job');
    await page.locator('[data-testid="eval-job"] .job[data-state="running"]').waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Cancel Evaluate a pair list' }).click();
    await page.locator('[data-testid="eval-job"] .job[data-state="cancelled"]').waitFor({ timeout: 60_000 });
    expect(await job.textContent()).toMatch(/cancelled/i);
    expect(await page.getByRole('table', { name: 'Figures per system' }).count()).toBe(0);
    await shot('evaluation-cancelled.png');
  }, 120_000);

  it('runs an evaluation as a job and draws ROC, DET and Tippett plots with Vega', async () => {
    await page.getByLabel(/^Pair list/).fill(list);
    await page.getByLabel(/LFW images folder/).fill(IMAGES);
    await page.getByLabel(/Folds, when the list has none/).fill('2');
    await page.getByLabel(/Save a calibration as/).fill('e2e-mini');
    await page.getByRole('button', { name: 'Run the evaluation' }).click();
    await page.locator('[data-testid="eval-job"] [data-state="running"], [data-testid="eval-job"] [data-state="succeeded"]').first().waitFor();
    await page.getByRole('table', { name: 'Figures per system' }).waitFor({ timeout: 240_000 });
    const systems = await page.getByRole('table', { name: 'Figures per system' }).locator('tbody tr td:first-child').allTextContents();
    expect(systems).toEqual(['faceres', 'mobileface', 'faceapi-resnet', 'fusion']);
    expect(await page.getByTestId('eval-summary').textContent()).toMatch(/16 pairs \(8 same person, 8 different people\), 2 folds.*calibration “e2e-mini” saved/s);

    const roc = await plotSvg('roc');
    expect(roc).toContain('false accept rate');
    expect(roc).toContain('true accept rate');
    expect(roc).toContain('ROC: pairs-mini.txt');
    // One line per system, each with a real path.
    const lines = page.locator('[data-testid="plot-roc"] svg .mark-line path');
    expect(await lines.count()).toBe(4);
    expect((await lines.first().getAttribute('d'))?.length ?? 0).toBeGreaterThan(20);
    for (const s of ['faceres', 'mobileface', 'faceapi-resnet', 'fusion']) expect(roc).toContain(`>${s}<`);
    const det = await plotSvg('det');
    expect(det).toContain('false reject rate (normal deviate scale)');
    expect(det).toMatch(/>10%</); // probit ticks labelled as rates (labelExpr through vega-interpreter)
    const tippett = await plotSvg('tippett');
    expect(tippett).toContain('log10 likelihood ratio');
    expect(tippett).toContain('Tippett: fusion');
    expect(await page.locator('[data-testid="plot-tippett"] svg .mark-line path').count()).toBe(2); // same person, different people
    await page.getByLabel('Tippett plot system').selectOption('tippett-faceres');
    await expect.poll(async () => (await plotSvg('tippett')).includes('Tippett: faceres')).toBe(true);
    await page.getByRole('heading', { name: 'ROC, DET and Tippett plots' }).scrollIntoViewIfNeeded();
    await shot('evaluation.png');
  }, 300_000);

  it('lists the calibrations; the chosen one is kept and shown on the Settings screen', async () => {
    const table = page.getByRole('table', { name: 'Stored calibrations' });
    // The set just saved is the newest: the default uses it.
    await expect.poll(async () => (await table.locator('tr[data-calibration="e2e-mini"]').textContent()) ?? '').toContain('in use');
    expect(await table.locator('tr[data-calibration="lfw-view1"]').textContent()).toContain('available');
    await page.getByLabel('Use calibration lfw-view1').check();
    await expect.poll(async () => page.getByTestId('calibration-in-use').textContent()).toContain('“lfw-view1”');
    await expect.poll(async () => (await table.locator('tr[data-calibration="lfw-view1"]').textContent()) ?? '').toContain('in use');
    expect(await table.locator('tr[data-calibration="e2e-mini"]').textContent()).toContain('available');
    const chosen = await api<{ name: string }>('calibrations.selected', {});
    expect(chosen.name).toBe('lfw-view1');
    await shot('evaluation-calibrations.png');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings & doctor' }).waitFor();
    expect(await page.getByTestId('settings-calibration').textContent()).toContain('“lfw-view1”');
    const thresholds = page.getByRole('table', { name: 'Decision thresholds' });
    await thresholds.waitFor();
    const rows = await thresholds.locator('tbody tr').allTextContents();
    expect(rows).toHaveLength(4);
    for (const r of rows) expect(r).toContain('lfw-view1 (builtin)');
    await page.getByTestId('provider').waitFor({ timeout: 60_000 });
    const models = page.getByRole('table', { name: 'Models' });
    const doctor = await api<{ models: { id: string; sha256: string }[] }>('app.doctor', { verify: false });
    const faceres = doctor.models.find((m) => m.id === 'faceres')!;
    expect(await models.locator('tr', { hasText: 'faceres' }).first().textContent()).toContain(faceres.sha256);
    expect(await page.getByTestId('catalog-dir').textContent()).toBe(app.catalogDir);
    await shot('settings-doctor.png');
  }, 120_000);

  it('saves a pair report from the pair review screen (HTML and PDF) naming the chosen calibration', async () => {
    const a = sha['Colin_Powell_0001']!;
    const b = sha['Colin_Powell_0002']!;
    await page.goto(`${app.url}#/pair/${a}/${b}`);
    await page.getByRole('heading', { name: 'Pair review' }).waitFor();
    // Reports come after the examiner has seen the evidence: name the examiner, reveal the score.
    const examiner = page.getByRole('textbox', { name: 'Examiner' });
    await examiner.fill('Eva Lund');
    await examiner.press('Enter');
    await page.getByRole('button', { name: 'Reveal without assessment' }).click();
    const group = page.getByRole('group', { name: 'Case report of this pair' });
    const html = await download(() => group.getByRole('button', { name: 'Save report (HTML)' }).click());
    expect(html.name).toBe(`facet-pair-${a.slice(0, 8)}-${b.slice(0, 8)}.html`);
    const text = html.bytes.toString('utf8');
    for (const s of [a, b]) expect(text).toContain(`SHA-256 <span class="hash">${s}</span>`);
    expect(text).toContain('Calibration set &#34;lfw-view1&#34;, chosen for this catalog.');
    const v = await api<{ calibrationChoice: { how: string }; systems: { system: string; evidence: { method: string; lr: number; verbal: string }[] }[] }>('verify.pair', { a: { sha256: a }, b: { sha256: b } });
    expect(v.calibrationChoice.how).toBe('selected');
    const lr = v.systems.find((s) => s.system === 'fusion')!.evidence.find((e) => e.method === 'logistic')!;
    expect(text).toContain(lr.verbal);
    expect(text).toContain(`likelihood ratio ${lr.lr >= 1000 || lr.lr < 0.001 ? lr.lr.toExponential(2) : lr.lr.toPrecision(3)}`);
    expect(text.match(/<img src="data:image\/png;base64,/g)).toHaveLength(3);

    const pdf = await download(() => group.getByRole('button', { name: 'Save report (PDF)' }).click());
    expect(pdf.name.endsWith('.pdf')).toBe(true);
    const parsed = await pdfText(pdf.bytes);
    for (const s of [a, b]) expect(parsed.text).toContain(s);
    expect(parsed.text).toContain('Calibration set "lfw-view1", chosen for this catalog.');
    expect(parsed.text).toContain(lr.verbal);
    await shot('pair-report-buttons.png');

    // The report as a reader sees it (opened on its own: self-contained, nothing fetched).
    const viewer = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const fetched: string[] = [];
    viewer.on('request', (r) => {
      if (!r.url().startsWith('data:')) fetched.push(r.url());
    });
    await viewer.setContent(text, { waitUntil: 'load' });
    expect(fetched).toEqual([]);
    expect(await viewer.locator('img').evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0))).toBe(true);
    await viewer.screenshot({ path: path.join(ARTIFACTS, 'pair-report.png'), fullPage: true });
    await viewer.close();
  }, 180_000);

  it('saves a subject report from the Subjects screen', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Subjects' }).click();
    await page.getByRole('heading', { name: 'Subjects' }).first().waitFor();
    const group = page.getByRole('group', { name: 'Case report of Colin_Powell' });
    const html = await download(() => group.getByRole('button', { name: 'Save report (HTML)' }).click());
    expect(html.name).toBe('facet-subject-Colin_Powell.html');
    const text = html.bytes.toString('utf8');
    expect(text).toContain('Facet case report: Subject Colin_Powell');
    for (const s of [sha['Colin_Powell_0001']!, sha['Colin_Powell_0002']!]) expect(text).toContain(s);
    expect(text).not.toContain(sha['George_W_Bush_0001']!);
    await shot('subjects-report.png');
  }, 120_000);

  it('left no console errors (CSP included) and no page errors', () => {
    expect(problems).toEqual([]);
  });
});
