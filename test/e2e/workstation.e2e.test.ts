import { mkdirSync } from 'node:fs';
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
    for (const name of ['Catalog', 'Jobs', 'Settings']) expect(await nav.getByRole('link', { name }).isVisible()).toBe(true);
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

  it('had no console errors or CSP violations, and no failed request but the invalid ones it sent', () => {
    expect(problems).toEqual([]);
    expect(failedRequests).toEqual(['400 /api/jobs.start', '400 /api/jobs.start']);
  });
});
