/**
 * The Electron door, written against the few members of ipcMain it uses so that it carries no
 * Electron import and runs under plain Node in tests.
 */
import { IPC_CALL } from '../../shared/channels';
import type { Envelope } from '../../shared/contract';
import type { Router } from './router';

export interface IpcInvokeEventLike {
  senderFrame: { url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/**
 * Binds the router to `facet:call`. Only frames whose URL passes `isTrustedUrl` (the app's own
 * renderer) may call; anything else gets a typed `forbidden` error.
 */
export function bindIpc(ipcMain: IpcMainLike, router: Router, isTrustedUrl: (url: string) => boolean): () => void {
  ipcMain.handle(IPC_CALL, async (event, method, payload): Promise<Envelope<unknown>> => {
    const url = event.senderFrame?.url ?? '';
    if (!isTrustedUrl(url)) {
      return { ok: false, error: { code: 'forbidden', message: 'Calls are accepted only from the Facet window.' } };
    }
    return router.handle(method, payload);
  });
  return () => ipcMain.removeHandler(IPC_CALL);
}
