/**
 * Preload (sandboxed): exposes exactly one object, the door link, and nothing of Node or Electron.
 * Validation happens in main; the renderer's client validates responses.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { IPC_CALL, IPC_EVENT, MEDIA_SCHEME } from '../shared/channels';
import type { Envelope } from '../shared/contract';

const bridge = {
  send: (method: string, payload: unknown): Promise<Envelope<unknown>> =>
    ipcRenderer.invoke(IPC_CALL, method, payload) as Promise<Envelope<unknown>>,
  onEvent(listener: (raw: unknown) => void): () => void {
    const wrapped = (_e: IpcRendererEvent, raw: unknown): void => listener(raw);
    ipcRenderer.on(IPC_EVENT, wrapped);
    return () => ipcRenderer.removeListener(IPC_EVENT, wrapped);
  },
  mediaUrl: (sha256: string): string => `${MEDIA_SCHEME}://original/${encodeURIComponent(sha256)}`,
  thumbUrl: (sha256: string): string => `${MEDIA_SCHEME}://thumb/${encodeURIComponent(sha256)}`,
  // The window knows where a dropped file lives: nothing is copied, it is imported from its place.
  importPath: async (file: File): Promise<Envelope<{ path: string }>> => {
    const found = webUtils.getPathForFile(file);
    return found
      ? { ok: true, data: { path: found } }
      : { ok: false, error: { code: 'invalid_request', message: `${file.name} has no path on this machine (was it dragged from another application?)` } };
  },
};

contextBridge.exposeInMainWorld('facetBridge', bridge);
