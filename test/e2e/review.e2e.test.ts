/**
 * The forensic examiner's journey in Chromium, with the real models on LFW portraits: initial
 * assessment before the score exists on the page, a keyboard-driven decision with the FISWG
 * checklist, blind verification by a second examiner, the disagreement flag, synchronized zoom,
 * colour maps, and axe-core accessibility checks on every screen.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { interpolateTurbo, interpolateViridis } from 'd3-scale-chromatic';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from '../helpers/axe';
import { launchChromium } from '../helpers/browser';
import { hasSharedData, REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';
import { serveBuiltApp, type ServedApp } from '../helpers/server';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts/e2e');
const PEOPLE: [string, number[]][] = [
  ['George_W_Bush', [1, 2]],
  ['Colin_Powell', [1]],
  ['Tony_Blair', [1]],
  ['Donald_Rumsfeld', [1]],
  ['John_Ashcroft', [1]],
  ['Gerhard_Schroeder', [1]],
];
const ANA_NOTES = 'Nose bridge 3 mm wider on B; chin shape differs.';

/** "rgb(r, g, b)" or "#rrggbb" -> [r, g, b]. */
function rgb(css: string): number[] {
  const m = /rgb\((\d+), (\d+), (\d+)\)/.exec(css);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  return [1, 3, 5].map((i) => parseInt(css.slice(i, i + 2), 16));
}

describe.skipIf(!hasSharedData)('pair review as a forensic examiner (ACE-V) in Chromium', () => {
  const tmp = tempDir('facet-review-e2e-');
  let app: ServedApp;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  /** Every API call the page made, in order, with its reply (to prove what was and was not sent). */
  const calls: { method: string; body: Promise<string> }[] = [];
  const sha: Record<string, string> = {};
  let impostor = '';

  const api = async <T,>(method: string, body: unknown): Promise<T> =>
    page.evaluate(
      async ([m, b]) => {
        const res = await fetch(`/api/${m}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(b) });
        return (await res.json()).data;
      },
      [method, body] as const,
    ) as Promise<T>;
  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
  const setExaminer = async (name: string): Promise<void> => {
    const field = page.getByRole('textbox', { name: 'Examiner' });
    await field.fill(name);
    await field.press('Enter');
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur()); // leave the text field: shortcuts work again
  };
  const expectAccessible = async (screen: string): Promise<void> => {
    expect(await axeViolations(page), `axe on ${screen}`).toEqual([]);
  };
  const painted = (testid: string): Promise<number> =>
    page.getByTestId(testid).evaluate((c) => {
      const canvas = c as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
      return n;
    });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const root = path.join(tmp.dir, 'people');
    for (const [person, ns] of PEOPLE) {
      mkdirSync(path.join(root, person), { recursive: true });
      for (const n of ns) {
        const name = `${person}_${String(n).padStart(4, '0')}.jpg`;
        copyFileSync(path.join(SHARED_DATA, 'lfw/images', person, name), path.join(root, person, name));
      }
    }
    app = await serveBuiltApp(path.join(tmp.dir, 'catalog'));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/api/')) calls.push({ method: u.pathname.slice(5), body: r.text().catch(() => '') });
      if (r.status() >= 400) problems.push(`${r.status()} ${u.pathname}`);
    });
    await page.goto(app.loginUrl);
    // Generous: on two busy cores the first load of the bundle can take a while.
    await page.getByRole('heading', { name: 'Catalog' }).waitFor({ timeout: 90_000 });
    await page.getByLabel(/one absolute path per line/).fill(root);
    await page.getByLabel(/folder name is its subject/).check();
    await page.getByRole('button', { name: 'Import' }).click();
    // Until the import has analysed all seven portraits (the engine's own count); expect.poll is for tests only.
    const analysed = async (): Promise<number> => (await api<{ analyzed: number }[]>('subjects.list', {})).reduce((s, x) => s + x.analyzed, 0);
    for (const t0 = Date.now(); (await analysed()) < 7; ) {
      if (Date.now() - t0 > 120_000) throw new Error(`the import analysed ${await analysed()} of 7 portraits in 2 minutes`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const { items } = await api<{ items: { sha256: string; originalName: string }[] }>('catalog.originals', { limit: 50 });
    for (const o of items) sha[o.originalName.replace('.jpg', '')] = o.sha256;
    // The look-alike: the nearest other person to Bush's first portrait, as the Subjects screen finds it.
    const hits = await api<{ results: { sha256: string; subject: string }[] }>('lookalikes.query', { face: { sha256: sha['George_W_Bush_0001'] }, limit: 1 });
    impostor = hits.results[0]!.sha256;
    expect(hits.results[0]!.subject).not.toBe('George_W_Bush');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    tmp.cleanup();
  });

  it('needs an examiner name, then keeps score, LR and map out of the page until the assessment is recorded', async () => {
    await expectAccessible('catalog');
    await shot('review-catalog.png');
    await page.goto(`${app.url}#/pair/${sha['George_W_Bush_0001']}/${impostor}`);
    await page.getByRole('heading', { name: 'Pair review' }).waitFor();
    await page.getByTestId('need-examiner').waitFor();
    expect(await page.getByTestId('assessment-form').count()).toBe(0);
    await setExaminer('Ana Ruiz');
    const form = page.getByTestId('assessment-form');
    await form.waitFor();
    // Not hidden: absent. Nothing of the machine's evidence was even asked for.
    for (const id of ['verdict', 'systems', 'part-ranking', 'legend-max', 'provenance']) expect(await page.getByTestId(id).count(), id).toBe(0);
    expect(await page.locator('main').textContent()).not.toMatch(/LR \d|Θ =|separation AUC|score\s+threshold/);
    expect(calls.map((c) => c.method)).not.toContain('verify.pair');
    expect(calls.map((c) => c.method)).not.toContain('diff.pair');
    expect(await page.getByRole('button', { name: 'Record assessment and show the score' }).isDisabled()).toBe(true);
    await expectAccessible('pair review, before the assessment');
    await shot('review-assessment.png');

    const answers: Record<string, [string, string]> = {
      'image quality': ['good', 'fair'],
      pose: ['frontal', 'turned'],
      lighting: ['even', 'uneven'],
      occlusion: ['none', 'partial'],
    };
    for (const [factor, [a, b]] of Object.entries(answers)) {
      await page.getByRole('group', { name: `Portrait A: ${factor}` }).getByRole('radio', { name: a, exact: true }).check();
      await page.getByRole('group', { name: `Portrait B: ${factor}` }).getByRole('radio', { name: b, exact: true }).check();
    }
    expect(await page.locator('#prop-hp').inputValue()).toBe('The two portraits show the same person.');
    await page.locator('#prop-hd').fill('The two portraits show two different men of similar age.');
    await page.getByRole('button', { name: 'Record assessment and show the score' }).click();

    await page.getByTestId('verdict').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('verdict').textContent()).toMatch(/LR [\d.e+-]+: /);
    expect(await page.getByTestId('assessment-summary').textContent()).toContain('A: good quality, frontal, even light, none occlusion. B: fair quality, turned, uneven light, partial occlusion.');
    expect(await page.getByTestId('assessment-summary').textContent()).toContain('two different men of similar age');
    await expect.poll(() => page.getByTestId('part-ranking').getByRole('listitem').count(), { timeout: 60_000 }).toBe(8);
    // The assessment came first: its audit entry precedes any score request.
    const audit = await api<{ action: string; actor: string; details: { portraits?: unknown } }[]>('audit.list', { limit: 5 });
    expect(audit.find((e) => e.action === 'assessment.record')).toMatchObject({ actor: 'Ana Ruiz', details: { portraits: { a: { quality: 'good' }, b: { pose: 'turned' } } } });
    const methods = calls.map((c) => c.method);
    expect(methods.indexOf('assessments.record')).toBeLessThan(methods.indexOf('verify.pair'));
  }, 120_000);

  it('zooms and pans both portraits together with the overlay registered, and recolours map and legend', async () => {
    await expect.poll(() => painted('overlay-a')).toBeGreaterThan(100);
    const transforms = (): Promise<string[]> => Promise.all(['zoom-a', 'zoom-b'].map((id) => page.getByTestId(id).evaluate((e) => getComputedStyle(e).transform)));
    const identity = ['matrix(1, 0, 0, 1, 0, 0)', 'matrix(1, 0, 0, 1, 0, 0)'];
    expect(await transforms()).toEqual(identity);
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await page.getByRole('button', { name: 'Zoom in' }).click();
    expect(await page.getByTestId('zoom-level').textContent()).toBe('156 %');
    // Wheel over A zooms both; a drag over B pans both.
    const viewA = (await page.getByTestId('view-a').boundingBox())!;
    await page.mouse.move(viewA.x + viewA.width * 0.3, viewA.y + viewA.height * 0.4);
    await page.mouse.wheel(0, -200);
    await expect.poll(() => page.getByTestId('zoom-level').textContent()).not.toBe('156 %');
    const viewB = (await page.getByTestId('view-b').boundingBox())!;
    const before = await transforms();
    await page.mouse.move(viewB.x + viewB.width / 2, viewB.y + viewB.height / 2);
    await page.mouse.down();
    await page.mouse.move(viewB.x + viewB.width / 2 + 40, viewB.y + viewB.height / 2 + 30, { steps: 5 });
    await page.mouse.up();
    const after = await transforms();
    expect(after[0]).toBe(after[1]);
    expect(after[0]).not.toBe(before[0]);
    expect(after[0]).toMatch(/^matrix\(([2-8]\.\d+), 0, 0, \1, -[\d.]+, -[\d.]+\)$/);
    // The overlay covers exactly its photo, zoomed or not.
    for (const side of ['a', 'b']) {
      const img = (await page.getByTestId(`zoom-${side}`).locator('img').boundingBox())!;
      const canvas = (await page.getByTestId(`overlay-${side}`).boundingBox())!;
      for (const k of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(img[k] - canvas[k]), `${side} ${k}`).toBeLessThan(1);
      expect(img.width).toBeGreaterThan(viewA.width * 2);
    }
    await shot('review-zoomed.png');
    // Arrow keys pan both too, a tenth of the view per press, when no control has the focus.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const dx = (m: string): number => Number(/matrix\([^,]+, 0, 0, [^,]+, (-?[\d.]+),/.exec(m)![1]);
    const beforeKey = await transforms();
    await page.keyboard.press('ArrowRight');
    const afterKey = await transforms();
    expect(afterKey[0]).not.toBe(beforeKey[0]);
    expect(dx(afterKey[0]!) - dx(beforeKey[0]!)).toBeCloseTo(-viewA.width * 0.1, 0);
    expect(dx(afterKey[1]!) - dx(beforeKey[1]!)).toBeCloseTo(-viewB.width * 0.1, 0);

    // Colour maps: the strongest overlay pixel has the chosen map's colour for its value.
    const strongest = (): Promise<{ v: number; rgb: number[] }> =>
      page.getByTestId('overlay-a').evaluate((c) => {
        const canvas = c as HTMLCanvasElement;
        const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let best = 3;
        for (let i = 3; i < d.length; i += 4) if (d[i]! > d[best]!) best = i;
        return { v: d[best]! / 255, rgb: [d[best - 3]!, d[best - 2]!, d[best - 1]!] };
      });
    const opacity = 0.65;
    const close = (got: number[], want: number[]): boolean => got.every((x, i) => Math.abs(x - want[i]!) <= 40);
    const turbo = await strongest();
    expect(close(turbo.rgb, rgb(interpolateTurbo(turbo.v / opacity))), `${turbo.rgb} vs turbo(${turbo.v / opacity})`).toBe(true);
    await page.getByTestId('colormap').selectOption('viridis');
    await expect.poll(async () => (await strongest()).rgb).not.toEqual(turbo.rgb);
    const viridis = await strongest();
    expect(close(viridis.rgb, rgb(interpolateViridis(viridis.v / opacity))), `${viridis.rgb} vs viridis(${viridis.v / opacity})`).toBe(true);
    const legend = await page.getByTestId('legend-bar').evaluate((e) => (e as HTMLElement).style.background);
    expect(legend).toContain('rgb(68, 1, 84)'); // viridis at 0
    expect(legend).not.toContain('rgb(35, 23, 27)'); // turbo at 0
    await page.getByRole('button', { name: 'Reset zoom' }).click();
    expect(await transforms()).toEqual(identity);
  });

  it('takes the decision from the keyboard: 1-5, o, ? and the FISWG checklist, not while typing', async () => {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('o');
    await expect.poll(() => painted('overlay-a')).toBe(0);
    await page.keyboard.press('o');
    await expect.poll(() => painted('overlay-a')).toBeGreaterThan(100);
    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    await shot('review-shortcuts.png');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });

    await page.keyboard.press('5');
    expect(await page.getByLabel(/5\. Sure they are different people/).isChecked()).toBe(true);
    // The checklist: focus its first answer, then Space / arrows within a component, Tab to the next.
    await page.getByRole('group', { name: 'Forehead', exact: true }).getByRole('radio', { name: 'similar', exact: true }).focus();
    const keys: Record<string, string[]> = {
      Forehead: ['Space'],
      Eyebrows: ['Space'],
      Eyes: ['Space'],
      Cheeks: ['Space'],
      Nose: ['ArrowRight'],
      Ears: ['ArrowRight', 'ArrowRight'],
      Mouth: ['Space'],
      'Chin / jawline': ['ArrowRight'],
      'Face outline': ['Space'],
      Hair: ['Space'],
      'Scars / marks': ['ArrowRight', 'ArrowRight'],
    };
    const names = Object.keys(keys);
    for (const [i, component] of names.entries()) {
      for (const k of keys[component]!) await page.keyboard.press(k);
      if (i < names.length - 1) await page.keyboard.press('Tab');
    }
    const findings = await page.getByTestId('checklist').getByRole('radio', { checked: true }).evaluateAll((rs) => rs.map((r) => `${r.getAttribute('name')}=${(r as HTMLInputElement).value}`));
    expect(findings).toEqual([
      'fiswg-forehead=similar', 'fiswg-eyebrows=similar', 'fiswg-eyes=similar', 'fiswg-cheeks=similar', 'fiswg-nose=dissimilar', 'fiswg-ears=not_assessable',
      'fiswg-mouth=similar', 'fiswg-chin_jawline=dissimilar', 'fiswg-face_outline=similar', 'fiswg-hair=similar', 'fiswg-scars_marks=not_assessable',
    ]);
    // Digits typed into the notes are text, not shortcuts.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('rationale');
    await page.keyboard.type(ANA_NOTES);
    expect(await page.getByLabel(/5\. Sure they are different people/).isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    const decisions = page.getByTestId('decisions');
    await decisions.waitFor();
    const text = (await decisions.textContent()) ?? '';
    expect(text).toContain('Sure they are different people');
    expect(text).toContain('Ana Ruiz');
    expect(text).toContain('dissimilar: Nose, Chin / jawline');
    expect(text).toContain('not assessable: Ears, Scars / marks');
    expect(text).toContain(ANA_NOTES);
    const audit = await api<{ action: string; actor: string; details: { checklist: Record<string, string>; scale: number } }[]>('audit.list', { limit: 3 });
    expect(audit[0]).toMatchObject({ action: 'decision.record', actor: 'Ana Ruiz', details: { scale: 5, checklist: { nose: 'dissimilar', ears: 'not_assessable', forehead: 'similar' } } });
    await expectAccessible('pair review, decided');
    await shot('review-decision.png');

    // A second pair for the verification list: Bush against himself, revealed without an assessment.
    await page.goto(`${app.url}#/pair/${sha['George_W_Bush_0001']}/${sha['George_W_Bush_0002']}`);
    await page.getByRole('button', { name: 'Reveal without assessment' }).click();
    await page.getByTestId('verdict').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('assessment-summary').textContent()).toContain('without an initial assessment');
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('2');
    for (const group of await page.getByTestId('checklist').getByRole('group').all()) await group.getByRole('radio', { name: 'similar', exact: true }).check();
    await page.getByLabel(/Notes: what you compared/).fill('Same ear and hairline.');
    await page.getByRole('button', { name: 'Record decision' }).click();
    await page.getByTestId('decisions').waitFor();
    expect((await api<{ action: string }[]>('audit.list', { limit: 5 })).map((e) => e.action)).toContain('assessment.skip');
  }, 120_000);

  it('blind verification: a second examiner sees neither score nor decision until their own; then the disagreement is flagged', async () => {
    await setExaminer('Ben Okafor');
    // Switching examiner hides the evidence again: Ben has not assessed this pair.
    await page.getByTestId('assessment-form').waitFor();
    expect(await page.getByTestId('verdict').count()).toBe(0);
    expect(await page.getByTestId('decisions').count()).toBe(0);
    expect(await painted('overlay-a')).toBe(0);
    expect(await painted('overlay-b')).toBe(0);

    // The audit log, read as Ben: Ana's two decisions keep their place in the chain, without their content.
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    const entries = page.getByTestId('audit-entries');
    const withheldRows = entries.locator('tr[data-withheld="true"]');
    await expect.poll(() => withheldRows.count()).toBe(2);
    expect(await withheldRows.first().textContent()).toMatch(/Ana Ruiz\s*decision\.record\s*withheld until you record your own decision/);
    expect(await entries.textContent()).not.toContain('"conclusion"');
    await page.getByLabel('Filter entries').fill('assessment');
    await expect.poll(async () => (await entries.locator('tbody tr').allTextContents()).every((t) => t.includes('assessment.'))).toBe(true);
    expect(await entries.locator('tbody tr').count()).toBeGreaterThanOrEqual(2);
    await page.getByLabel('Filter entries').fill('');
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await expect.poll(async () => (await page.getByTestId('chain-report').count()) && (await page.getByTestId('chain-report').textContent())).toMatch(/Intact: \d+ entries/);
    await expectAccessible('audit log');
    await shot('audit-log-blind.png');

    await page.getByRole('link', { name: 'Verification' }).click();
    await page.getByRole('heading', { name: 'Verification', exact: true }).waitFor();
    const awaiting = page.getByTestId('awaiting').getByRole('listitem');
    await expect.poll(() => awaiting.count()).toBe(2);
    expect(await page.locator('main').textContent()).not.toContain('Ana Ruiz');
    await expectAccessible('verification list');
    await shot('review-verification-awaiting.png');

    const seen = calls.length;
    await awaiting.first().getByRole('link').click();
    await page.getByRole('heading', { name: 'Pair review' }).waitFor();
    await page.getByTestId('assessment-form').waitFor();
    expect(await page.getByTestId('list-position').textContent()).toMatch(/Pair 1 of 2 · Verification for Ben Okafor/);
    const first = page.url();
    // n / p walk the list.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('n');
    await expect.poll(() => page.getByTestId('list-position').textContent()).toMatch(/Pair 2 of 2/);
    expect(page.url()).not.toBe(first);
    await page.keyboard.press('p');
    await expect.poll(() => page.url()).toBe(first);
    await page.getByTestId('assessment-form').waitFor();

    await page.getByRole('button', { name: 'Reveal without assessment' }).click();
    await page.getByTestId('verdict').waitFor({ timeout: 60_000 });
    const blind = page.getByTestId('blind-notice');
    await blind.waitFor();
    expect(await blind.textContent()).toMatch(/1 decision by other examiners is\s+withheld/);
    expect(await page.getByTestId('decisions').count()).toBe(0);
    expect(await page.locator('main').textContent()).not.toContain('Ana Ruiz');
    // Not sent, not just hidden: no reply the page received since opening the list names Ana or her notes.
    for (const c of calls.slice(seen)) {
      const body = await c.body;
      expect(body, c.method).not.toContain('Ana Ruiz');
      expect(body, c.method).not.toContain(ANA_NOTES);
    }
    await shot('review-blind.png');

    // Ben thinks they are the same person: a disagreement with Ana's "sure different".
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('2');
    for (const group of await page.getByTestId('checklist').getByRole('group').all()) await group.getByRole('radio', { name: 'similar', exact: true }).check();
    await page.getByLabel(/Notes: what you compared/).fill('Brows and mouth agree; nose difference is pose.');
    await page.getByRole('button', { name: 'Record decision' }).click();
    const flag = page.getByTestId('disagreement');
    await flag.waitFor();
    expect(await flag.textContent()).toContain('Ana Ruiz and Ben Okafor: conclusions differ: different vs same');
    const list = (await page.getByTestId('decisions').textContent()) ?? '';
    expect(list).toContain('Ana Ruiz');
    expect(list).toContain(ANA_NOTES);
    expect(list).toMatch(/Ben Okafor.*verification/);
    expect(await page.getByTestId('blind-notice').count()).toBe(0);
    await expectAccessible('pair review, disagreement');
    await shot('review-disagreement.png');

    await page.getByRole('link', { name: 'Verification' }).click();
    const disagreements = page.getByTestId('disagreements').getByRole('listitem');
    await expect.poll(() => disagreements.count()).toBe(1);
    expect(await disagreements.first().textContent()).toContain('conclusions differ: different vs same');
    expect(await page.getByTestId('awaiting').getByRole('listitem').count()).toBe(1);
    await shot('review-verification-disagreement.png');

    // Ben has decided the first pair: his log now shows Ana's conclusion on it; the second stays withheld.
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await expect.poll(() => withheldRows.count()).toBe(1);
    expect(await entries.textContent()).toContain('"conclusion":"different"');
    await shot('audit-log-after-decision.png');
    await page.getByRole('link', { name: 'Verification' }).click();
    await page.getByRole('heading', { name: 'Verification', exact: true }).waitFor();

    // Ana sees the same flag on her list.
    await setExaminer('Ana Ruiz');
    await expect.poll(() => page.getByTestId('awaiting').getByRole('listitem').count()).toBe(0);
    await expect.poll(() => page.getByTestId('disagreements').getByRole('listitem').count()).toBe(1);
  }, 180_000);

  it('the other screens pass axe too, and nothing logged an error', async () => {
    for (const [link, heading] of [['Subjects', 'Subjects'], ['Jobs', 'Jobs'], ['Settings', 'Settings & doctor'], ['Evaluation', 'Evaluation & calibration'], ['Catalog', 'Catalog']] as const) {
      await page.getByRole('link', { name: link, exact: true }).click();
      await page.getByRole('heading', { name: heading }).waitFor();
      if (link === 'Settings') await page.getByTestId('provider').waitFor({ timeout: 60_000 });
      await expectAccessible(link);
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
