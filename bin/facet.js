#!/usr/bin/env node
// Thin launcher for the built CLI (out/main/cli.js); `npm install` builds it.
import { existsSync } from 'node:fs';

const entry = new URL('../out/main/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('facet: the app is not built yet. Run `npm run build` (npm install runs it).\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
