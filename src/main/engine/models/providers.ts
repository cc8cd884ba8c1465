/**
 * Execution provider choice: CUDA where its provider library is installed and works, WebGPU
 * (bundled with onnxruntime-node on Linux; needs a GPU adapter) where it works, CPU otherwise.
 * Every attempt is kept with its reason, so the user sees why a faster provider was not used.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/builder';

export type ProviderName = 'cuda' | 'webgpu' | 'cpu';
export type ProviderPreference = ProviderName | 'auto';
export const PROVIDER_ORDER: ProviderName[] = ['cuda', 'webgpu', 'cpu'];

export interface ProviderAttempt {
  provider: ProviderName;
  ok: boolean;
  reason: string;
}

export interface ProviderChoice {
  provider: ProviderName;
  attempts: ProviderAttempt[];
}

let probeBytes: Uint8Array | undefined;
/** A one-convolution model: enough to make a provider compile and run a kernel. */
function probeModel(): Uint8Array {
  if (probeBytes) return probeBytes;
  const g = new GraphBuilder('probe');
  g.input('x', 'float32', [1, 1, 4, 4]);
  const w = g.initializer('w', new Float32Array(9).fill(1), [1, 1, 3, 3]);
  g.node('Conv', ['x', w], 'conv', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, ['y']);
  g.output('y', 'float32', [1, 1, 4, 4]);
  probeBytes = g.toBytes({ producer: 'facet', version: 'probe' });
  return probeBytes;
}

function ortBinaryDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    const dir = path.join(path.dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Linux: whether a Vulkan loader is installed (WebGPU's Dawn needs it; without it Dawn only prints a warning). */
function hasVulkanLoader(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [
    ...(process.env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean),
    `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
  ];
  return dirs.some((d) => existsSync(path.join(d, 'libvulkan.so.1')));
}

async function tryProvider(provider: ProviderName): Promise<ProviderAttempt> {
  if (provider === 'webgpu' && !hasVulkanLoader()) {
    return { provider, ok: false, reason: 'no Vulkan loader (libvulkan.so.1) installed; WebGPU needs it and a GPU driver' };
  }
  if (provider === 'cuda') {
    const dir = ortBinaryDir();
    const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    if (!dir || !existsSync(path.join(dir, lib))) {
      return {
        provider,
        ok: false,
        reason: 'CUDA provider library not installed (onnxruntime-node was installed without its CUDA files; on a connected machine with CUDA 12, reinstall it with --onnxruntime-node-install=cuda12)',
      };
    }
  }
  if (!ort.listSupportedBackends().some((b) => b.name === provider)) {
    return { provider, ok: false, reason: `onnxruntime-node on ${process.platform}/${process.arch} has no ${provider} backend` };
  }
  try {
    const session = await ort.InferenceSession.create(probeModel(), { executionProviders: [provider] });
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(16).fill(1), [1, 1, 4, 4]) });
    await session.release();
    const centre = (out['y']?.data as Float32Array | undefined)?.[5];
    if (centre !== 9) return { provider, ok: false, reason: `probe gave a wrong result (${centre}, expected 9)` };
    return { provider, ok: true, reason: 'probe model ran correctly' };
  } catch (e) {
    const message = (e as Error).message.split('\n')[0] ?? String(e);
    const adapter = /adapter/i.test(message) ? 'no GPU adapter available (WebGPU needs a Vulkan-capable GPU and driver)' : message;
    return { provider, ok: false, reason: adapter };
  }
}

/** Tries providers from the preferred one down to CPU; the first that runs the probe wins. */
export async function chooseProvider(preference: ProviderPreference = 'auto'): Promise<ProviderChoice> {
  const order = preference === 'auto' ? PROVIDER_ORDER : PROVIDER_ORDER.slice(PROVIDER_ORDER.indexOf(preference));
  const attempts: ProviderAttempt[] = [];
  for (const provider of order) {
    const attempt = await tryProvider(provider);
    attempts.push(attempt);
    if (attempt.ok) return { provider, attempts };
  }
  throw new Error(`No execution provider works: ${attempts.map((a) => `${a.provider}: ${a.reason}`).join('; ')}`);
}
