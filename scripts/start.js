// `npm start`: the Electron window where Electron's binary is installed; otherwise (offline
// machines, where npm was told not to download it) the loopback server, whose URL is printed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

if (!existsSync(path.join(root, 'out/main/cli.js')) || !existsSync(path.join(root, 'out/renderer/index.html'))) {
  console.log('Building Facet first…');
  const built = spawnSync(process.execPath, [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

function electronBinary() {
  if (process.env.FACET_NO_WINDOW) return { reason: 'FACET_NO_WINDOW is set' };
  try {
    // The electron package exports the path of its binary, and throws when the binary was never fetched.
    const binary = createRequire(import.meta.url)('electron');
    if (typeof binary === 'string' && existsSync(binary)) return { binary };
    return { reason: 'the Electron binary is not installed' };
  } catch {
    return { reason: 'the Electron binary is not installed' };
  }
}

const found = electronBinary();
const child = found.binary
  ? spawn(found.binary, [root, ...args], { stdio: 'inherit' })
  : (console.log(`No desktop window (${found.reason}); serving Facet on this machine's loopback address instead.`),
    spawn(process.execPath, [path.join(root, 'bin/facet.js'), 'serve', ...args], { stdio: 'inherit' }));

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
