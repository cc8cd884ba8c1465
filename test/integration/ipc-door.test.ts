import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/main/engine';
import { bindIpc, type IpcInvokeEventLike, type IpcMainLike } from '../../src/main/transport/ipc';
import { createRouter } from '../../src/main/transport/router';
import { IPC_CALL } from '../../src/shared/channels';
import { tempDir } from '../helpers/fixtures';

type Handler = (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>;

/**
 * Electron's binary cannot run here, so the door is driven through the two ipcMain members it uses,
 * exactly as Electron calls them (event first, then the renderer's arguments). The engine is real.
 */
class IpcMainStandIn implements IpcMainLike {
  readonly handlers = new Map<string, Handler>();
  handle(channel: string, listener: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  invoke(url: string | null, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(IPC_CALL);
    if (!h) throw new Error('no handler');
    return h({ senderFrame: url === null ? null : { url } }, ...args);
  }
}

describe('Electron IPC door', () => {
  const tmp = tempDir();
  const trusted = 'file:///opt/facet/out/renderer/index.html';
  let engine: Engine;
  const ipc = new IpcMainStandIn();
  let unbind: () => void;

  beforeAll(() => {
    engine = createEngine({ catalogDir: path.join(tmp.dir, 'catalog') });
    unbind = bindIpc(ipc, createRouter(engine.handlers), (url) => url.split('#')[0] === trusted);
  });
  afterAll(async () => {
    await engine.close();
    tmp.cleanup();
  });

  it('serves the contract to the app window', async () => {
    expect(await ipc.invoke(`${trusted}#/catalog`, 'catalog.stats', {})).toEqual({ ok: true, data: { originals: 0, bytes: 0 } });
  });

  it('gives the same typed validation error as the HTTP door', async () => {
    const res = await ipc.invoke(trusted, 'jobs.start', { kind: 'store.ingest', params: { paths: ['x'] } });
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid_request', issues: [{ path: 'params.paths.0', message: 'must be an absolute path' }] } });
  });

  it('refuses frames that are not the app (a navigated or injected page)', async () => {
    for (const url of ['https://evil.example/', 'file:///tmp/other.html', null]) {
      expect(await ipc.invoke(url, 'app.info', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
  });

  it('unbinds cleanly', () => {
    unbind();
    expect(ipc.handlers.size).toBe(0);
  });
});
