// Opt-in, for machines with a connection: fetch Electron's binary (npm install does not, by
// design) and rebuild the native modules against Electron's ABI. After this the CLI and tests need
// `npm rebuild better-sqlite3` to return to Node's ABI.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run(process.execPath, [path.join(root, 'node_modules/electron/install.js')]);
run('npx', ['--yes', '@electron/rebuild', '--only', 'better-sqlite3']);
console.log('Electron is ready: `npm start` now opens the window.');
