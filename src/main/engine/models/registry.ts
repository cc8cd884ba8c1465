import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Manifest, type ModelEntry } from './manifest';

/** resources/models beside the sources or the built bundle. */
export function defaultModelsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'resources/models');
    if (existsSync(path.join(candidate, 'manifest.json'))) return candidate;
    dir = path.dirname(dir);
  }
  return path.resolve('resources/models');
}

export class ModelRegistryError extends Error {
  override name = 'ModelRegistryError';
}

export interface ModelStatus {
  entry: ModelEntry;
  path: string;
  present: boolean;
  /** null until checked; false when the file's hash differs from the manifest. */
  verified: boolean | null;
}

function readManifest(file: string): Manifest {
  const parsed = Manifest.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new ModelRegistryError(`The model manifest ${file} is malformed: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * The bundled models (resources/models) plus, when given, the lab's own registered models
 * (`<catalog>/models`, see byo.ts). A lab model may not shadow a bundled id.
 */
export class ModelRegistry {
  readonly manifest: Manifest;
  private readonly verified = new Map<string, boolean>();
  private readonly dirOf = new Map<string, string>();

  constructor(
    readonly dir: string,
    readonly userDir?: string,
  ) {
    const file = path.join(dir, 'manifest.json');
    if (!existsSync(file)) {
      throw new ModelRegistryError(`No model manifest at ${file}. Run \`npm run models\` (npm install does it).`);
    }
    const bundled = readManifest(file);
    for (const m of bundled.models) this.dirOf.set(m.id, dir);
    const userFile = userDir && path.join(userDir, 'manifest.json');
    const user = userFile && existsSync(userFile) ? readManifest(userFile).models.filter((m) => !this.dirOf.has(m.id)) : [];
    for (const m of user) this.dirOf.set(m.id, userDir as string);
    this.manifest = { ...bundled, models: [...bundled.models, ...user] };
  }

  get(id: string): ModelEntry {
    const entry = this.manifest.models.find((m) => m.id === id);
    if (!entry) {
      throw new ModelRegistryError(`No model "${id}". Known: ${this.manifest.models.map((m) => m.id).join(', ')}.`);
    }
    return entry;
  }

  pathOf(entry: ModelEntry): string {
    return path.join(this.dirOf.get(entry.id) ?? this.dir, entry.file);
  }

  /** Reads the model file and checks its SHA-256 against the manifest (once per process). */
  load(id: string): Uint8Array {
    const entry = this.get(id);
    const file = this.pathOf(entry);
    if (!existsSync(file)) throw new ModelRegistryError(`Model file ${file} is missing. Run \`npm run models\`.`);
    const bytes = readFileSync(file);
    const ok = createHash('sha256').update(bytes).digest('hex') === entry.sha256;
    this.verified.set(id, ok);
    if (!ok) throw new ModelRegistryError(`Model file ${file} does not match the manifest's SHA-256; rebuild it with \`npm run models\`.`);
    return bytes;
  }

  status(verify = false): ModelStatus[] {
    return this.manifest.models.map((entry) => {
      const file = this.pathOf(entry);
      const present = existsSync(file);
      if (verify && present && !this.verified.has(entry.id)) {
        this.verified.set(entry.id, createHash('sha256').update(readFileSync(file)).digest('hex') === entry.sha256);
      }
      return { entry, path: file, present, verified: present ? (this.verified.get(entry.id) ?? null) : false };
    });
  }
}
