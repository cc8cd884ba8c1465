// Starts inference-worker.ts from TypeScript sources (tests, tsx); see jobs/worker-from-source.mjs.
import { tsImport } from 'tsx/esm/api';

await tsImport('./inference-worker.ts', import.meta.url);
