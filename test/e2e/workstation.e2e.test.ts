import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser';
import { hasSharedData, REPO_ROOT, SHARED_DATA, tempDir, writeNoiseImages } from '../helpers/fixtures';
import { serveBuiltApp, type ServedApp } from '../helpers/server';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts/e2e');

describe('workstation in Chromium over the loopback door', () => {
  const tmp = tempDir('facet-e2e-');
  let app: ServedApp;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const failedRequests: string[] = [];
  let bigFolder: string;
  let smallFolder: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    smallFolder = path.join(tmp.dir, 'small');
    await writeNoiseImages(smallFolder, 6);
    // Long enough to watch and cancel: all of LFW where the shared data is present, else many small files.
    bigFolder = hasSharedData ? path.join(SHARED_DATA, 'lfw') : path.join(tmp.dir, 'big');
    if (!hasSharedData) await writeNoiseImages(bigFolder, 4000);
    app = await serveBuiltApp(path.join(tmp.dir, 'catalog'));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    // Any console error (a CSP violation, a failed request the UI did not expect) fails the run.
    page.on('console', (m) => {
      // Failed requests are checked by URL below; every other console error is a defect.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) failedRequests.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    tmp.cleanup();
  });

  it('signs in from the printed URL and loads the shell', async () => {
    await page.goto(app.loginUrl);
    expect(page.url()).not.toContain('token='); // the token left the address bar
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    expect(await page.title()).toBe('Catalog · Facet');
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Catalog', 'Subjects', 'Jobs', 'Settings']) expect(await nav.getByRole('link', { name }).isVisible()).toBe(true);
  });

  it('navigates between screens', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings & doctor' }).waitFor();
    expect(page.url()).toMatch(/#\/settings$/);
    expect(await page.getByTestId('catalog-dir').textContent()).toBe(app.catalogDir);
    // The doctor: execution provider in use, why faster ones were not used, models with hashes.
    await page.getByTestId('provider').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('provider').textContent()).toMatch(/Inference runs on (CPU|WEBGPU|CUDA)/);
    const attempts = await page.getByRole('list', { name: 'Execution provider attempts' }).getByRole('listitem').allTextContents();
    expect(attempts.at(-1)).toMatch(/probe model ran correctly/);
    const rows = page.getByRole('table', { name: 'Models' }).getByRole('row');
    await expect.poll(() => rows.filter({ hasText: 'verified' }).count()).toBeGreaterThanOrEqual(6);
    await page.screenshot({ path: path.join(ARTIFACTS, 'doctor.png') });
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    expect(await page.getByText('No jobs in this session yet.').isVisible()).toBe(true);
    await page.getByRole('link', { name: 'Catalog' }).click();
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
  });

  it('shows the engine rejecting an invalid request, in plain words', async () => {
    await page.getByLabel(/one absolute path per line/).fill('photos/case-114');
    await page.getByRole('button', { name: 'Import' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'The import was not started' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain('params.paths.0: must be an absolute path');
    await page.screenshot({ path: path.join(ARTIFACTS, 'invalid-request.png') });
    await alert.getByRole('button', { name: 'Dismiss' }).click();

    // The door itself, not the page, refuses it: a hand-made request gets the typed error.
    const reply = await page.evaluate(async () => {
      const res = await fetch('/api/jobs.start', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"kind":"store.ingest","params":{"paths":"/x"}}' });
      return { status: res.status, body: await res.json() };
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('invalid_request');
    expect(reply.body.error.issues[0].path).toBe('params.paths');
  });

  it('imports a folder: progress reaches the UI and thumbnails come from the store', async () => {
    await page.getByLabel(/one absolute path per line/).fill(smallFolder);
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByTestId('catalog-stats').filter({ hasText: '6 originals' }).waitFor();
    const images = page.getByRole('list', { name: 'Originals' }).getByRole('img');
    await expect.poll(() => images.count()).toBe(6);
    await expect
      .poll(() => images.evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth === 48)))
      .toBe(true);
    await page.getByRole('link', { name: 'Jobs' }).click();
    const result = page.getByTestId('ingest-result').first();
    await result.waitFor();
    expect(await result.textContent()).toContain('6 image files: 6 added');
  });

  it('shows a long job\'s progress and cancels it, keeping what was imported', async () => {
    await page.getByRole('link', { name: 'Catalog' }).click();
    await page.getByLabel(/one absolute path per line/).fill(bigFolder);
    await page.getByRole('button', { name: 'Import' }).click();
    const bar = page.getByRole('progressbar', { name: 'Import images progress' });
    await bar.waitFor();
    await expect.poll(async () => Number((await bar.getAttribute('aria-valuenow')) ?? 0), { timeout: 60_000 }).toBeGreaterThan(20);
    const max = Number(await bar.getAttribute('aria-valuemax'));
    expect(max).toBeGreaterThan(1000);
    await page.getByRole('link', { name: /Jobs\s*1/ }).waitFor(); // the running badge
    await page.screenshot({ path: path.join(ARTIFACTS, 'job-progress.png') });

    await page.getByRole('button', { name: 'Cancel Import images' }).click();
    try {
      // The running badge goes once the job has stopped; then the Jobs page shows it cancelled.
      await page.getByRole('link', { name: /Jobs\s*1/ }).waitFor({ state: 'detached', timeout: 30_000 });
      await page.getByRole('link', { name: 'Jobs' }).click();
      await page.locator('[data-state="cancelled"]').first().waitFor({ timeout: 10_000 });
    } catch (e) {
      await page.screenshot({ path: path.join(ARTIFACTS, 'cancel-failure.png') });
      const jobs = await page.evaluate(async () => {
        const res = await fetch('/api/jobs.list', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
        return JSON.stringify((await res.json()).data.map((j: { state: string; progress: unknown }) => [j.state, j.progress]));
      });
      throw new Error(`${(e as Error).message}\nengine's jobs: ${jobs}`);
    }
    const summary = page.getByTestId('ingest-result').first();
    const text = (await summary.textContent()) ?? '';
    const added = Number(/(\d+) added/.exec(text)?.[1]);
    const notReached = Number(/(\d+) not reached/.exec(text)?.[1]);
    expect(added).toBeGreaterThan(0);
    expect(notReached).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'job-cancelled.png') });

    // Nothing committed before the cancel was lost.
    const stats = await page.evaluate(async () => {
      const res = await fetch('/api/catalog.stats', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      return (await res.json()).data as { originals: number };
    });
    expect(stats.originals).toBe(6 + added);
  });

  it.skipIf(!hasSharedData)('pair review: the difference map over both portraits, part ranking, calibrated LR, and a recorded decision', async () => {
    const pairFolder = path.join(tmp.dir, 'pair');
    mkdirSync(pairFolder, { recursive: true });
    for (const [person, n] of [['George_W_Bush', 1], ['George_W_Bush', 2], ['Colin_Powell', 1]] as const) {
      const name = `${person}_000${n}.jpg`;
      copyFileSync(path.join(SHARED_DATA, 'lfw/images', person, name), path.join(pairFolder, name));
    }
    await page.getByRole('link', { name: 'Catalog' }).click();
    await page.getByLabel(/one absolute path per line/).fill(pairFolder);
    expect(await page.getByLabel(/Detect, align and embed every face/).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByRole('link', { name: /Jobs\s*1/ }).waitFor({ state: 'detached', timeout: 60_000 });
    await page.getByLabel('Filter by file name').fill('George_W_Bush_000');
    const picks = page.getByRole('button', { name: /Pick George_W_Bush_000\d\.jpg for pair review/ });
    await expect.poll(() => picks.count(), { timeout: 10_000 }).toBe(2);
    await picks.nth(0).click();
    await picks.nth(1).click();
    await page.getByRole('button', { name: /Review pair \(2 of 2 picked\)/ }).click();

    await page.getByRole('heading', { name: 'Pair review' }).waitFor();
    // The score stays out of the page until the examiner assesses the pair or reveals it without
    // an assessment (test/e2e/review.e2e.test.ts walks the assessment itself).
    const examiner = page.getByRole('textbox', { name: 'Examiner' });
    await examiner.fill('E2E Examiner');
    await examiner.press('Enter');
    await page.getByRole('button', { name: 'Reveal without assessment' }).click();
    const ranking = page.getByTestId('part-ranking').getByRole('listitem');
    await expect.poll(() => ranking.count(), { timeout: 60_000 }).toBe(8);
    // Bars scale with each part's effect: the first is full, the last much shorter.
    const widths = await page.locator('.bars__fill').evaluateAll((els) => els.map((e) => (e as HTMLElement).getBoundingClientRect().width));
    expect(widths[0]).toBeGreaterThan(2 * widths[7]!);
    expect(widths).toEqual([...widths].sort((x, y) => y - x));
    // Same person: the fused LR supports "same", with the calibration's provenance beside it.
    expect(await page.getByTestId('verdict').textContent()).toMatch(/LR [\d.e+]+: .*support that the two faces are of the same person/);
    expect(await page.getByTestId('provenance').textContent()).toContain('pairsDevTrain.txt');
    expect(await page.getByTestId('legend-max').textContent()).toMatch(/Θ = 0\.\d+/);
    for (const side of ['overlay-a', 'overlay-b']) {
      await expect.poll(() => page.getByTestId(side).getAttribute('data-drawn')).toBe('true');
    }
    // The overlay really is drawn: some pixels of the canvas are coloured.
    const painted = await page.getByTestId('overlay-a').evaluate((c) => {
      const canvas = c as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(100);
    await page.screenshot({ path: path.join(ARTIFACTS, 'pair-review.png'), fullPage: true });

    await page.getByLabel(/2\. Think they are the same person/).check();
    for (const group of await page.getByTestId('checklist').getByRole('group').all()) await group.getByRole('radio', { name: 'similar', exact: true }).check();
    await page.getByLabel(/Notes: what you compared/).fill('Ear shape and hairline agree; the map shows nothing above Theta.');
    await page.getByRole('button', { name: 'Record decision' }).click();
    const decisions = page.getByTestId('decisions');
    await decisions.waitFor();
    expect(await decisions.textContent()).toContain('Think they are the same person');
    await page.screenshot({ path: path.join(ARTIFACTS, 'pair-decision.png'), fullPage: true });
  }, 180_000);

  it.skipIf(!hasSharedData)('characterization: subjects from folder names, PCAM part ranking and representative portraits', async () => {
    const root = path.join(tmp.dir, 'subjects');
    const people: [string, number][] = [['Colin_Powell', 5], ['Tony_Blair', 1], ['Serena_Williams', 1], ['Jennifer_Aniston', 1]];
    for (const [person, count] of people) {
      mkdirSync(path.join(root, person), { recursive: true });
      for (let n = 1; n <= count; n++) {
        const name = `${person}_000${n}.jpg`;
        copyFileSync(path.join(SHARED_DATA, 'lfw/images', person, name), path.join(root, person, name));
      }
    }
    await page.getByRole('link', { name: 'Catalog' }).click();
    await page.getByLabel(/one absolute path per line/).fill(root);
    await page.getByLabel(/folder name is its subject/).check();
    await page.getByRole('button', { name: 'Import' }).click();
    // Until the import has analysed all eight portraits (the engine's own count).
    await expect
      .poll(
        () =>
          page.evaluate(async () => {
            const res = await fetch('/api/subjects.list', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
            const list = (await res.json()).data as { name: string; analyzed: number }[];
            const names = ['Colin_Powell', 'Tony_Blair', 'Serena_Williams', 'Jennifer_Aniston'];
            return list.filter((x) => names.includes(x.name)).reduce((s, x) => s + x.analyzed, 0);
          }),
        { timeout: 90_000 },
      )
      .toBe(8);

    await page.getByRole('link', { name: 'Subjects' }).click();
    await page.getByRole('heading', { name: 'Subjects' }).waitFor();
    const row = page.getByRole('table', { name: 'Subjects' }).getByRole('row').filter({ hasText: 'Colin_Powell' });
    await expect.poll(async () => (await row.textContent()) ?? '', { timeout: 10_000 }).toMatch(/Colin_Powell\s*5\s*5/);
    await page.getByRole('button', { name: 'Characterize Colin_Powell' }).click();
    const result = page.getByTestId('characterization');
    await result.waitFor({ timeout: 120_000 });
    const parts = page.getByTestId('characteristic-parts').getByRole('listitem');
    // Eight facial parts and hair, and the ears where the representative portrait's crop shows them.
    const texts = await parts.allTextContents();
    expect(texts).toEqual(expect.arrayContaining([expect.stringContaining('hair')]));
    expect(await parts.count()).toBe(texts.some((t) => t.includes('ears')) ? 10 : 9);
    expect(await result.textContent()).toMatch(/5 portraits against 3 of other people/);
    for (const alt of ['Most representative portrait', 'Least representative portrait']) {
      await expect.poll(() => page.getByAltText(alt).evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'characterization.png'), fullPage: true });

    // Look-alikes of the representative portrait: other people only, each a click away from pair review.
    await page.getByRole('button', { name: 'Find look-alikes' }).click();
    const hits = page.getByRole('list', { name: 'Look-alikes' }).getByRole('listitem');
    await expect.poll(() => hits.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    expect((await hits.allTextContents()).some((t) => t.includes('Colin_Powell'))).toBe(false);
    await page.screenshot({ path: path.join(ARTIFACTS, 'lookalikes.png'), fullPage: true });
    // Weighted by the characterization just learned: the same people, re-ranked by likeness to Colin Powell's.
    const plain = (await hits.allTextContents()).map((t) => t.trim());
    await page.getByLabel(/Weighted by Colin_Powell's characterization/).check();
    await page.getByRole('button', { name: 'Find look-alikes' }).click();
    await expect.poll(async () => (await page.getByTestId('lookalikes-facts').textContent()) ?? '', { timeout: 30_000 }).toMatch(/re-ranked by likeness to Colin_Powell's characterization/);
    const weighted = (await hits.allTextContents()).map((t) => t.trim());
    expect(weighted.length).toBeGreaterThanOrEqual(3);
    expect(weighted.some((t) => t.includes('Colin_Powell'))).toBe(false);
    // Each shows its distance from the person under the metric, the order of the list.
    const ds = weighted.map((t) => Number(/ · d ([\d.e+-]+)$/.exec(t)![1]));
    expect(ds).toEqual([...ds].sort((a, b) => a - b));
    await page.screenshot({ path: path.join(ARTIFACTS, 'lookalikes-weighted.png'), fullPage: true });
    console.log(`look-alikes of Colin_Powell, plain: ${plain.join(' | ')}\nweighted: ${weighted.join(' | ')}`);
    await page.getByLabel(/Weighted by Colin_Powell's characterization/).uncheck();
    await page.getByRole('button', { name: 'Find look-alikes' }).click();
    await expect.poll(async () => (await page.getByTestId('lookalikes-facts').textContent()) ?? '', { timeout: 30_000 }).not.toMatch(/re-ranked by likeness/);
    await page.getByRole('link', { name: /Review Colin_Powell against .* \(rank 1\)/ }).click();
    await page.getByRole('heading', { name: 'Pair review' }).waitFor();
    // Opened from the look-alikes: n / p step through that list.
    expect(await page.getByTestId('list-position').textContent()).toMatch(/Pair 1 of \d+ · Look-alikes of Colin_Powell/);
    await page.getByRole('button', { name: 'Reveal without assessment' }).click(); // the examiner's name is remembered
    await expect.poll(() => page.getByTestId('part-ranking').getByRole('listitem').count(), { timeout: 60_000 }).toBe(8);
  }, 240_000);

  it('had no console errors or CSP violations, and no failed request but the invalid ones it sent', () => {
    expect(problems).toEqual([]);
    expect(failedRequests).toEqual(['400 /api/jobs.start', '400 /api/jobs.start']);
  });
});
