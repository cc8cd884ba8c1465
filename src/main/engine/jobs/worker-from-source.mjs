// Starts worker.ts from TypeScript sources (tests, scripts run with tsx): a worker thread does not
// inherit the parent's TypeScript loader, so it loads the real entry through tsx's API.
import { tsImport } from 'tsx/esm/api';

await tsImport('./worker.ts', import.meta.url);
