import { spawn, spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { cpSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir, writeBadCorpus, writeNoiseImages } from '../helpers/fixtures';

const BIN = path.join(REPO_ROOT, 'bin/facet.js');

function electronInstalled(): boolean {
  try {
    return existsSync(createRequire(import.meta.url)('electron') as string);
  } catch {
    return false;
  }
}

/** The built CLI, as a user runs it (npm test builds before running vitest). */
function facet(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('facet CLI (built)', () => {
  const tmp = tempDir();
  const catalog = path.join(tmp.dir, 'catalog');

  beforeAll(() => {
    if (!existsSync(path.join(REPO_ROOT, 'out/main/cli.js'))) throw new Error('Build first: `npm run build` (npm test does).');
  });
  afterAll(() => tmp.cleanup());

  it('prints help listing every command', () => {
    const r = facet(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['info', 'ingest', 'store', 'originals', 'serve']) expect(r.stdout).toContain(c);
  });

  it('ingests with --json output, per-file errors included, and the catalog from --catalog', async () => {
    await writeNoiseImages(path.join(tmp.dir, 'in'), 5);
    await writeBadCorpus(path.join(tmp.dir, 'in/bad'));
    const r = facet(['--catalog', catalog, '--json', 'ingest', path.join(tmp.dir, 'in')]);
    expect(r.code, r.stderr).toBe(0);
    const job = JSON.parse(r.stdout);
    expect(job).toMatchObject({ kind: 'store.ingest', state: 'succeeded', result: { files: 9, added: 5 } });
    expect(job.result.errors).toHaveLength(4);
  });

  it('uses $FACET_CATALOG when no --catalog is given, and lists originals', () => {
    const info = JSON.parse(facet(['--json', 'info'], { FACET_CATALOG: catalog }).stdout);
    expect(info).toMatchObject({ catalogDir: catalog, stats: { originals: 5 } });
    const list = JSON.parse(facet(['--json', 'originals', '--limit', '2'], { FACET_CATALOG: catalog }).stdout);
    expect(list.total).toBe(5);
    expect(list.items).toHaveLength(2);
  });

  it('doctor reports the execution provider and verified model hashes (and waits for the runtime)', () => {
    const r = facet(['--catalog', catalog, '--json', 'doctor']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.problems).toEqual([]);
    expect(report.runtime.attempts.at(-1)).toMatchObject({ ok: true, provider: report.runtime.provider });
    expect(report.models.length).toBeGreaterThanOrEqual(7);
    expect(report.models.every((m: { verified: boolean }) => m.verified)).toBe(true);
    const text = facet(['--catalog', catalog, '--provider', 'cpu', 'doctor']);
    expect(text.stdout).toMatch(/^execution provider: cpu/m);
    expect(text.stdout).toMatch(/faceres\s+recognizer .* verified/);
  });

  it('store verify exits 0 on an intact store', () => {
    const r = facet(['--catalog', catalog, 'store', 'verify']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('5 originals checked: 5 intact, 0 missing, 0 altered');
  });

  it('audit verify checks the chain the imports wrote, and exits 3 once it is tampered with', () => {
    const log = JSON.parse(facet(['--catalog', catalog, '--json', 'audit', 'log', '--limit', '50']).stdout);
    expect(log.filter((e: { action: string }) => e.action === 'original.add')).toHaveLength(5);
    const ok = facet(['--catalog', catalog, 'audit', 'verify']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^\d+ entries, head [0-9a-f]{16}: intact/);
    const copy = path.join(tmp.dir, 'tampered');
    cpSync(catalog, copy, { recursive: true });
    const db = new Database(path.join(copy, 'catalog.sqlite'));
    db.exec("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'someone else' WHERE seq = 1");
    db.close();
    const bad = facet(['--catalog', copy, 'audit', 'verify']);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/TAMPERED\n\s+edited\s+entry 1/);
  });

  it('reports invalid input clearly with a non-zero exit', () => {
    const r = facet(['--catalog', catalog, 'originals', '--limit', '100000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Invalid request to catalog.originals: limit: .*500.*\[invalid_request\]/);
    expect(facet(['frobnicate']).code).toBe(2);
  });

  it('serve prints a loopback URL with a token and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, '--catalog', catalog, '--json', 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('}')) resolve(text);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const info = JSON.parse(out);
    expect(info.loginUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
    const res = await fetch(new URL('/api/app.info', info.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${new URL(info.loginUrl).searchParams.get('token')}` },
      body: '{}',
    });
    expect((await res.json()).data.catalogDir).toBe(catalog);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it.skipIf(electronInstalled())('npm start without an Electron binary falls back to the loopback server and prints its URL', async () => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts/start.js'), '--catalog', catalog], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const out = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (c: Buffer) => {
        text += c.toString();
        if (/\?token=[0-9a-f]{64}/.test(text)) resolve(text);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${text}`)));
    });
    expect(out).toContain('No desktop window (the Electron binary is not installed)');
    expect(out).toContain(`catalog: ${catalog}`);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
  });
});
