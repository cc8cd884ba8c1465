/**
 * Paper 001's hiding game on LFW: people with at least 1 + gallery images (the folder's first
 * `gallery` images form their template, the next one is the probe), every method against the
 * random map, each replacement strategy, 50/70/90/99 % hidden. Prints the table and writes the
 * curves. The same game runs over a catalog with `facet hiding-game`.
 * Run by hand: `npx tsx bench/hiding-game.ts [people = 60] [--recognizer mobileface] [--gallery 3]
 *   [--methods a,b] [--contrastive] [--out dir]`
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alignedFace } from '../src/main/engine/analysis/aligned-face';
import { fillFor, loadThetas } from '../src/main/engine/analysis/pair-diff-service';
import { loadBuiltinCalibrations } from '../src/main/engine/analysis/verification';
import { Catalog } from '../src/main/engine/catalog/catalog';
import { InferenceService } from '../src/main/engine/models/inference';
import type { ProviderName } from '../src/main/engine/models/providers';
import { epsilonFor } from '../src/main/engine/saliency/handler';
import { playHidingGame, type GameSubject } from '../src/main/engine/saliency/hiding-game';
import { EXPLAINERS, type MethodId } from '../src/main/engine/saliency/index';
import { writeHidingGamePlots } from '../src/main/engine/saliency/plots';
import { SaliencyRuntime } from '../src/main/engine/saliency/runtime';
import { SHARED_DATA } from '../test/helpers/fixtures';

const ROOT = path.resolve(import.meta.dirname, '..');
const MODELS = path.join(ROOT, 'resources/models');

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const people = Number(process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 60);
  const model = flag('--recognizer') ?? 'mobileface';
  const gallery = Number(flag('--gallery') ?? 3);
  const contrastive = process.argv.includes('--contrastive');
  const out = path.resolve(flag('--out') ?? path.join(ROOT, 'test-artifacts/bench/hiding-game'));
  const provider = (process.env['FACET_PROVIDER'] ?? 'cpu') as ProviderName;
  const images = path.join(SHARED_DATA, 'lfw/images');
  // People with enough images, spread over the alphabet (not just the A's).
  const eligible = readdirSync(images)
    .sort()
    .map((name) => ({ name, files: readdirSync(path.join(images, name)).filter((f) => f.endsWith('.jpg')).sort() }))
    .filter((p) => p.files.length >= gallery + 1);
  const chosen = Array.from({ length: Math.min(people, eligible.length) }, (_, i) => eligible[Math.floor((i * eligible.length) / people)]!);

  const work = mkdtempSync(path.join(os.tmpdir(), 'facet-bench-'));
  const catalog = Catalog.open(work);
  const inference = new InferenceService({ modelsDir: MODELS });
  const rt = new SaliencyRuntime(inference.registry, provider);
  const entry = rt.entry(model);
  const epsilon = epsilonFor(MODELS, entry);
  const methods = ((flag('--methods')?.split(',') ?? EXPLAINERS.map((e) => e.id)) as MethodId[]).filter((m) => m !== 'tcebp' || epsilon !== undefined);
  const threshold = loadBuiltinCalibrations(MODELS).find((c) => c.modelId === model && c.modelSha256 === entry.sha256)?.threshold;
  if (threshold === undefined) throw new Error(`no calibrated threshold for ${model}`);

  const t0 = performance.now();
  const subjects: GameSubject[] = [];
  for (const p of chosen) {
    try {
      const crops = [];
      for (const f of p.files.slice(0, gallery + 1)) crops.push((await alignedFace({ path: path.join(images, p.name, f) }, { catalog, inference }, entry, 'centre')).crop255);
      subjects.push({ identity: p.name, probe: { identity: p.name, crop255: crops[gallery]! }, gallery: crops.slice(0, gallery).map((crop255) => ({ identity: p.name, crop255 })) });
    } catch {
      // no face found in one of the images: leave the person out
    }
  }
  const result = await playHidingGame(rt, subjects, {
    model,
    methods,
    fill: fillFor(loadThetas(MODELS), model),
    threshold,
    contrastive,
    ...(epsilon !== undefined ? { epsilon } : {}),
    onProgress: (done, total) => {
      if (done % 50 === 0) process.stderr.write(`  ${done}/${total} maps\n`);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `${contrastive ? 'contrastive ' : ''}hiding game: ${model} (${provider}), ${result.identities} LFW people (gallery ${gallery} + 1 probe each), ` +
      `threshold ${threshold.toFixed(3)}${epsilon !== undefined ? `, epsilon ${epsilon.toExponential(3)}` : ''} (${seconds.toFixed(0)} s)`,
  );
  const levels = [...new Set(result.cells.map((c) => c.level))].sort((a, b) => a - b);
  for (const replacement of [...new Set(result.cells.map((c) => c.replacement))]) {
    console.log(`\n${replacement}: % rank-1 identified (% verified) with this share hidden`);
    console.log(`${'method'.padEnd(22)}${levels.map((l) => `${Math.round(100 * l)} %`.padStart(13)).join('')}   ms/map`);
    for (const method of methods) {
      const row = levels.map((l) => {
        const c = result.cells.find((x) => x.method === method && x.replacement === replacement && x.level === l)!;
        return `${(100 * c.rank1).toFixed(0)} (${(100 * c.verified).toFixed(0)})`.padStart(13);
      });
      console.log(`${method.padEnd(22)}${row.join('')}   ${result.millis[method]!.toFixed(0).padStart(6)}`);
    }
  }
  mkdirSync(out, { recursive: true });
  const prefix = contrastive ? 'contrastive-' : '';
  writeFileSync(path.join(out, `${prefix}${model}.json`), `${JSON.stringify(result, null, 1)}\n`);
  const files = await writeHidingGamePlots(out, result, model);
  console.log(`\nwrote ${files.join(', ')}`);
  await rt.close();
  await inference.close();
  catalog.close();
  rmSync(work, { recursive: true, force: true });
}

void main();
