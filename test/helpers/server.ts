import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './fixtures';

export interface ServedApp {
  url: string;
  loginUrl: string;
  token: string;
  catalogDir: string;
  stop(): Promise<void>;
}

/** Starts the built app's loopback door (`facet serve`) on a free port, as `npm start` does offline. */
export async function serveBuiltApp(catalogDir: string): Promise<ServedApp> {
  const child: ChildProcess = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/facet.js'), '--catalog', catalogDir, '--json', 'serve', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const info = await new Promise<{ url: string; loginUrl: string }>((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (c: Buffer) => {
      text += c.toString();
      try {
        resolve(JSON.parse(text));
      } catch {
        // not complete yet
      }
    });
    child.on('exit', (code) => reject(new Error(`facet serve exited with ${code}: ${stderr}`)));
  });
  return {
    ...info,
    token: new URL(info.loginUrl).searchParams.get('token') ?? '',
    catalogDir,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
