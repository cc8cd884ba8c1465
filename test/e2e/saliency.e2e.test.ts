/**
 * The saliency lab in Chromium over the loopback door, with the real models on LFW portraits:
 * several methods side by side over the photo, an analyst's box drawn with the mouse and its
 * agreement with a method, a tiny hiding game with its chart and table, and pair review's
 * explanation switched from the occlusion map to excitation backprop.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from '../helpers/axe';
import { launchChromium } from '../helpers/browser';
import { hasSharedData, REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';
import { serveBuiltApp, type ServedApp } from '../helpers/server';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts/e2e');
const PEOPLE = ['George_W_Bush', 'Colin_Powell', 'Tony_Blair'];
/** Imported without a subject: the engine cannot pick a class target for it. */
const UNNAMED = ['Donald_Rumsfeld', 'Donald_Rumsfeld_0001.jpg'] as const;
const lfw = (person: string, n: number): string => `${person}_${String(n).padStart(4, '0')}`;

interface Sim {
  a: number;
  b: number;
  tx: number;
  ty: number;
}
interface Explained {
  width: number;
  height: number;
  face: { cropToPhoto: Sim };
  results: { method: string; map: number[] }[];
}

describe.skipIf(!hasSharedData)('the saliency lab in Chromium', () => {
  const tmp = tempDir('facet-saliency-e2e-');
  let app: ServedApp;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const sha: Record<string, string> = {};
  let gameSeconds = 0;

  const api = async <T,>(method: string, body: unknown): Promise<T> =>
    page.evaluate(
      async ([m, b]) => {
        const res = await fetch(`/api/${m}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(b) });
        const env = await res.json();
        if (!env.ok) throw new Error(`${m}: ${env.error.message}`);
        return env.data;
      },
      [method, body] as const,
    ) as Promise<T>;
  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
  /** Canvas pixels with any opacity. */
  const painted = (testid: string): Promise<number> =>
    page.getByTestId(testid).evaluate((c) => {
      const canvas = c as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
      return n;
    });
  /**
   * Pearson correlation between a crop-frame map and the overlay canvas's opacity at the same
   * points carried into the photo by cropToPhoto: near 1 when the canvas shows this map.
   */
  const agreementWithCanvas = (testid: string, map: number[], width: number, height: number, t: Sim): Promise<number> =>
    page.getByTestId(testid).evaluate(
      (c, [values, w, h, s]) => {
        const canvas = c as HTMLCanvasElement;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        const xs: number[] = [];
        const ys: number[] = [];
        for (let y = 2; y < h; y += 4) {
          for (let x = 2; x < w; x += 4) {
            const px = Math.floor(s.a * (x + 0.5) - s.b * (y + 0.5) + s.tx);
            const py = Math.floor(s.b * (x + 0.5) + s.a * (y + 0.5) + s.ty);
            if (px < 0 || py < 0 || px >= canvas.width || py >= canvas.height) continue;
            xs.push(values[y * w + x]!);
            ys.push(data[(py * canvas.width + px) * 4 + 3]!);
          }
        }
        const mean = (v: number[]): number => v.reduce((p, q) => p + q, 0) / v.length;
        const mx = mean(xs);
        const my = mean(ys);
        let sxy = 0;
        let sxx = 0;
        let syy = 0;
        xs.forEach((x, i) => {
          sxy += (x - mx) * (ys[i]! - my);
          sxx += (x - mx) ** 2;
          syy += (ys[i]! - my) ** 2;
        });
        return sxy / Math.sqrt(sxx * syy);
      },
      [map, width, height, t] as const,
    );

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const root = path.join(tmp.dir, 'people');
    for (const person of PEOPLE) {
      mkdirSync(path.join(root, person), { recursive: true });
      for (const n of [1, 2, 3]) copyFileSync(path.join(SHARED_DATA, 'lfw/images', person, `${lfw(person, n)}.jpg`), path.join(root, person, `${lfw(person, n)}.jpg`));
    }
    const loose = path.join(tmp.dir, 'loose');
    mkdirSync(loose, { recursive: true });
    copyFileSync(path.join(SHARED_DATA, 'lfw/images', ...UNNAMED), path.join(loose, UNNAMED[1]));

    app = await serveBuiltApp(path.join(tmp.dir, 'catalog'));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
    await page.goto(app.loginUrl);
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    await page.getByLabel(/one absolute path per line/).fill(root);
    await page.getByLabel(/folder name is its subject/).check();
    await page.getByRole('button', { name: 'Import' }).click();
    await api('jobs.start', { kind: 'store.ingest', params: { paths: [loose], analyze: true } });
    // Until both imports have finished (the engine's own job states and count); expect.poll is for tests only.
    const analysed = async (): Promise<number> => (await api<{ total: number }>('catalog.originals', { faces: 'with', limit: 1 })).total;
    const jobs = (): Promise<{ kind: string; state: string; error: { message: string } | null }[]> => api('jobs.list', {});
    for (const t0 = Date.now(); (await analysed()) < 10; ) {
      const ingests = (await jobs()).filter((j) => j.kind === 'store.ingest');
      const failed = ingests.filter((j) => j.state === 'failed');
      if (failed.length) throw new Error(`an import failed: ${failed.map((j) => j.error?.message).join('; ')}`);
      if (ingests.length === 2 && ingests.every((j) => j.state === 'succeeded')) throw new Error(`the imports finished with ${await analysed()} of 10 portraits analysed`);
      if (Date.now() - t0 > 240_000) throw new Error(`the imports analysed ${await analysed()} of 10 portraits in 4 minutes`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const { items } = await api<{ items: { sha256: string; originalName: string }[] }>('catalog.originals', { limit: 50 });
    for (const o of items) sha[o.originalName.replace('.jpg', '')] = o.sha256;
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    tmp.cleanup();
  });

  it('picks a portrait, draws ebp, guided and cebp side by side with part bars, and the top 5 % view', async () => {
    await page.getByRole('link', { name: 'Saliency lab' }).click();
    await page.getByRole('heading', { name: 'Saliency lab' }).waitFor();
    await page.getByTestId('pick-subject').selectOption({ label: 'George_W_Bush (3)' });
    await page.getByRole('button', { name: `Explain ${lfw('George_W_Bush', 1)}.jpg` }).click();
    await page.waitForURL(new RegExp(`face=${sha[lfw('George_W_Bush', 1)]}`));
    await page.getByRole('heading', { name: 'Explain' }).waitFor();
    for (const m of ['ebp', 'guided', 'cebp']) await page.getByTestId(`method-${m}`).check();
    await page.getByRole('button', { name: 'Compute the maps' }).click();
    await page.getByTestId('saliency-results').waitFor({ timeout: 90_000 });

    const full: Record<string, number> = {};
    for (const m of ['ebp', 'guided', 'cebp']) {
      const overlay = page.getByTestId(`overlay-${m}`);
      await page.waitForFunction((el) => el?.getAttribute('data-drawn') === 'true', await overlay.elementHandle());
      full[m] = await painted(`overlay-${m}`);
      expect(full[m], m).toBeGreaterThan(1000);
      const widths = await page.getByTestId(`result-${m}`).locator('.bars__fill').evaluateAll((els) => els.map((e) => parseFloat((e as HTMLElement).style.width)));
      expect(widths.length, `${m} part bars`).toBeGreaterThanOrEqual(5);
      expect(Math.max(...widths), m).toBeCloseTo(100, 5);
      expect(widths.filter((w) => w > 0).length, m).toBeGreaterThanOrEqual(3);
    }
    expect(await page.getByTestId('saliency-facts').textContent()).toMatch(/mobileface .* target: .*George_W_Bush.* contrast:/s);

    // The page draws what the engine computed: the canvas's opacity follows the engine's own map.
    const explained = await api<Explained>('saliency.explain', { face: { sha256: sha[lfw('George_W_Bush', 1)] }, methods: ['ebp'] });
    const r = await agreementWithCanvas('overlay-ebp', explained.results[0]!.map, explained.width, explained.height, explained.face.cropToPhoto);
    expect(r).toBeGreaterThan(0.8);
    await shot('saliency-maps.png');

    await page.getByTestId('top-only').check();
    for (const m of ['ebp', 'guided', 'cebp']) {
      const top = await painted(`overlay-${m}`);
      expect(top, m).toBeGreaterThan(0);
      expect(top, m).toBeLessThan(full[m]! * 0.5);
    }
    await shot('saliency-top5.png');
    await page.getByTestId('top-only').uncheck();
    expect(await axeViolations(page), 'axe on the saliency lab').toEqual([]);
  });

  it('says in plain words why a portrait without a subject has no default target', async () => {
    await page.goto(`${app.url}#/saliency?face=${sha[UNNAMED[1].replace('.jpg', '')]}`);
    await page.getByRole('heading', { name: 'Explain' }).waitFor();
    await page.getByRole('button', { name: 'Compute the maps' }).click();
    await expect.poll(() => page.getByTestId('explain-error').textContent().catch(() => '')).toMatch(/no subject: name a target/);
    expect(await page.getByTestId('saliency-results').count()).toBe(0);
    // The browser logs the refused request itself; that one is expected, nothing else is.
    expect(problems.filter((p) => !/status of 400/.test(p))).toEqual([]);
    problems.splice(0);
  });

  it('draws a box with the mouse, saves it as eyes, and shows the agreement figures', async () => {
    const portrait = sha[lfw('George_W_Bush', 1)]!;
    await page.goto(`${app.url}#/saliency?face=${portrait}`);
    await page.getByRole('heading', { name: 'Explain' }).waitFor();
    const faces = await api<{ primary: number; faces: { idx: number; box: { x: number; y: number; width: number; height: number } }[] }>('faces.list', { sha256: portrait });
    const face = faces.faces.find((f) => f.idx === faces.primary)!.box;
    const layer = page.getByTestId('annotate-layer');
    await layer.waitFor();
    await layer.scrollIntoViewIfNeeded();
    const natural = await page.locator('.annotator img').evaluate((i) => [(i as HTMLImageElement).naturalWidth, (i as HTMLImageElement).naturalHeight]);
    const rect = (await layer.boundingBox())!;
    // The eyes: the upper middle band of the detected face, in photo pixels, then on screen.
    const want = { x: face.x + 0.12 * face.width, y: face.y + 0.22 * face.height, width: 0.76 * face.width, height: 0.22 * face.height };
    const toScreen = (x: number, y: number): [number, number] => [rect.x + (x / natural[0]!) * rect.width, rect.y + (y / natural[1]!) * rect.height];
    await page.mouse.move(...toScreen(want.x, want.y));
    await page.mouse.down();
    await page.mouse.move(...toScreen(want.x + want.width / 2, want.y + want.height / 2), { steps: 4 });
    await page.mouse.move(...toScreen(want.x + want.width, want.y + want.height), { steps: 4 });
    await page.mouse.up();
    await page.getByTestId('draft-box').waitFor();
    await page.getByTestId('annotate-label').selectOption('eyes');
    await page.getByRole('button', { name: 'Save region' }).click();
    await expect.poll(() => page.getByTestId('saved-box').count()).toBe(1);
    expect(await page.getByTestId('box-count').textContent()).toContain('1 region on this portrait: eyes');

    // What was stored is the box drawn, in photo pixels (to a pixel or two of screen rounding).
    const { faces: listed } = await api<{ faces: { id: number; idx: number }[] }>('faces.list', { sha256: portrait });
    const notes = await api<{ body: string; region: typeof want }[]>('annotations.list', { target: { kind: 'face', id: String(listed.find((f) => f.idx === faces.primary)!.id) } });
    expect(notes.map((n) => n.body)).toEqual(['FISWG: eyes']);
    const scale = natural[0]! / rect.width;
    for (const k of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(notes[0]!.region[k] - want[k]), k).toBeLessThanOrEqual(2 * scale + 1);

    await page.getByTestId('agree-method').selectOption('ebp');
    await page.getByRole('button', { name: 'Compare with my regions' }).click();
    const table = page.getByTestId('agreement');
    await table.waitFor({ timeout: 60_000 });
    const cells = await table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('th, td')].map((c) => c.textContent!.trim())));
    const row = (name: string): string[] => cells.find((c) => c[0] === name)!;
    // The page shows the engine's figures for this portrait and for the subject pooled.
    const truth = await api<{ pooled: { massInBoxes: number; areaOfBoxes: number; lift: number; labelRanks: { label: string; rank: number | null }[] } }>('saliency.agreement', { sha256: portrait, method: 'ebp' });
    expect(row('regions')).toEqual(['regions', '1', '1']);
    expect(row('map mass in regions')[1]).toBe(`${(100 * truth.pooled.massInBoxes).toFixed(1)} %`);
    expect(row('area of regions')[1]).toBe(`${(100 * truth.pooled.areaOfBoxes).toFixed(1)} %`);
    expect(row('lift (mass / area)')[1]).toBe(truth.pooled.lift.toFixed(2));
    expect(truth.pooled.lift).toBeCloseTo(truth.pooled.massInBoxes / truth.pooled.areaOfBoxes, 6);
    expect(row('your labels in the machine ranking')[1]).toBe(`eyes ${truth.pooled.labelRanks[0]!.rank ?? '—'}`);
    expect(row('Spearman')[1]).toMatch(/^-?\d\.\d\d$|^—$/);
    await shot('saliency-annotation.png');
    expect(await axeViolations(page), 'axe on the saliency lab with a region and agreement').toEqual([]);
  });

  it('plays a tiny hiding game and draws its curves and table', async () => {
    const panel = page.getByTestId('hiding-game');
    for (const m of ['ebp', 'cebp', 'guided', 'random']) await panel.getByTestId(`game-method-${m}`).uncheck();
    await panel.getByTestId('game-method-ebp').check();
    await panel.getByTestId('game-method-random').check();
    await panel.getByTestId('game-people').fill('3');
    await panel.getByTestId('game-gallery').fill('2');
    await panel.getByRole('button', { name: 'Play the hiding game' }).click();
    const job = panel.locator('.job[data-state]');
    await job.waitFor();
    const t0 = Date.now();
    await page.waitForFunction((el) => ['succeeded', 'failed', 'cancelled'].includes(el?.getAttribute('data-state') ?? ''), await job.elementHandle(), { timeout: 200_000 });
    gameSeconds = (Date.now() - t0) / 1000;
    expect(await job.getAttribute('data-state'), (await job.textContent()) ?? '').toBe('succeeded');
    await panel.getByTestId('game-table').waitFor();
    // 2 methods x (nothing hidden + the 4 default levels) for the chosen replacement.
    const rows = await panel.getByTestId('game-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim())));
    expect(rows).toHaveLength(10);
    expect(new Set(rows.map((r) => r[0]))).toEqual(new Set(['Excitation backprop', 'Random (baseline)']));
    expect(rows.map((r) => r[1]).slice(0, 5)).toEqual(['0 %', '50 %', '70 %', '90 %', '99 %']);
    for (const r of rows) {
      expect(r[2]).toMatch(/^\d+ %$/);
      expect(r[4]).toBe('3');
    }
    // Nothing hidden: both methods play the same untouched probes, so their scores must agree.
    const unhidden = rows.filter((r) => r[1] === '0 %');
    expect(unhidden[0]!.slice(2)).toEqual(unhidden[1]!.slice(2));
    const plot = panel.getByTestId('plot-hiding-game');
    await page.waitForFunction((el) => el?.getAttribute('data-state') === 'drawn', await plot.elementHandle());
    expect(await plot.locator('.role-mark.mark-line path').count()).toBe(2);
    expect(await plot.locator('.role-mark.mark-symbol path').count()).toBe(10);
    // Another replacement redraws the table from its own cells.
    await panel.getByTestId('game-replacement').selectOption('zero');
    await expect.poll(() => panel.getByTestId('game-table').locator('tbody tr').count()).toBe(10);
    await panel.getByTestId('game-table').scrollIntoViewIfNeeded();
    await shot('saliency-hiding-game.png');
    console.info(`hiding game, 3 people, gallery 2, ebp + random, 3 replacements x 4 levels: ${gameSeconds.toFixed(1)} s`);
  }, 240_000);

  it('switches pair review from the occlusion map to excitation backprop, each portrait towards the other', async () => {
    const a = sha[lfw('George_W_Bush', 2)]!;
    const b = sha[lfw('Tony_Blair', 1)]!;
    await page.goto(`${app.url}#/pair/${a}/${b}`);
    await page.getByRole('heading', { name: 'Pair review' }).waitFor();
    const field = page.getByRole('textbox', { name: 'Examiner' });
    await field.fill('Ana Ruiz');
    await field.press('Enter');
    await page.getByRole('button', { name: 'Reveal without assessment' }).click();
    const overlayA = page.getByTestId('overlay-a');
    await page.waitForFunction((el) => el?.getAttribute('data-drawn') === 'true', await overlayA.elementHandle(), { timeout: 90_000 });
    expect(await overlayA.getAttribute('data-source')).toBe('occlusion');

    await page.getByTestId('explanation-method').selectOption('ebp');
    await page.waitForFunction((el) => el?.getAttribute('data-state') === 'ready', await page.getByTestId('explanation').elementHandle(), { timeout: 90_000 });
    for (const side of ['a', 'b']) {
      await page.waitForFunction((el) => el?.getAttribute('data-source') === 'ebp', await page.getByTestId(`overlay-${side}`).elementHandle());
      expect(await painted(`overlay-${side}`), side).toBeGreaterThan(1000);
    }
    // Each canvas shows that portrait's EBP map towards the other one, as the engine computes it.
    const ea = await api<Explained>('saliency.explain', { face: { sha256: a }, methods: ['ebp'], target: { kind: 'pair', face: { sha256: b } } });
    const eb = await api<Explained>('saliency.explain', { face: { sha256: b }, methods: ['ebp'], target: { kind: 'pair', face: { sha256: a } } });
    expect(await agreementWithCanvas('overlay-a', ea.results[0]!.map, ea.width, ea.height, ea.face.cropToPhoto)).toBeGreaterThan(0.8);
    expect(await agreementWithCanvas('overlay-b', eb.results[0]!.map, eb.width, eb.height, eb.face.cropToPhoto)).toBeGreaterThan(0.8);
    expect(await page.getByTestId('explanation-facts').textContent()).toMatch(/Excitation backprop: A towards B \d+ ms, B towards A \d+ ms; colours run from 0 to each map.s peak/);
    await shot('saliency-pair-ebp.png');

    await page.getByTestId('explanation-method').selectOption('occlusion');
    await page.waitForFunction((el) => el?.getAttribute('data-source') === 'occlusion', await overlayA.elementHandle());
    expect(await painted('overlay-a')).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });
});
