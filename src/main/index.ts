/**
 * Electron bootstrap: the window and its door. Everything it shows comes from the engine through
 * the router; this file only wires Electron to them and hardens the window.
 */
import { app, BrowserWindow, ipcMain, net, protocol, session, type WebContents } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { IPC_EVENT, MEDIA_SCHEME } from '../shared/channels';
import { createEngine, type Engine } from './engine';
import { resolveCatalogDir } from './engine/config';
import { builtLayout } from './layout';
import { bindIpc } from './transport/ipc';
import { createRouter } from './transport/router';

const layout = builtLayout(import.meta.url);

protocol.registerSchemesAsPrivileged([
  { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`${flag}=`));
  return eq?.slice(flag.length + 1);
}

function harden(contents: WebContents, isTrustedUrl: (url: string) => boolean): void {
  contents.on('will-navigate', (event, url) => {
    if (!isTrustedUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

async function createWindow(engine: Engine): Promise<void> {
  const devUrl = process.env['ELECTRON_RENDERER_URL'];
  const rendererIndex = path.join(layout.rendererDir, 'index.html');
  const trustedPrefix = devUrl ?? pathToFileURL(rendererIndex).href;
  const isTrustedUrl = (url: string): boolean => url.split('#')[0] === trustedPrefix.split('#')[0];

  const unbind = bindIpc(ipcMain, createRouter(engine.handlers), isTrustedUrl);
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    title: 'Facet',
    show: false,
    webPreferences: {
      preload: layout.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  harden(win.webContents, isTrustedUrl);
  const unsubscribe = engine.subscribe((event) => {
    if (!win.isDestroyed()) win.webContents.send(IPC_EVENT, event);
  });
  win.on('closed', () => {
    unsubscribe();
    unbind();
  });
  win.once('ready-to-show', () => win.show());
  if (devUrl) await win.loadURL(devUrl);
  else await win.loadFile(rendererIndex);
}

async function boot(): Promise<void> {
  await app.whenReady();
  const engine = createEngine({
    catalogDir: resolveCatalogDir(argValue('--catalog'), app.getPath('userData')),
    workerEntry: layout.workerEntry,
    inferenceWorkerEntry: layout.inferenceWorkerEntry,
    modelsDir: layout.modelsDir,
  });

  // The window may display stored originals and nothing else from disk.
  protocol.handle(MEDIA_SCHEME, (request) => {
    const url = new URL(request.url);
    const sha = url.pathname.replace(/^\//, '');
    if (!/^[0-9a-f]{64}$/.test(sha)) return new Response('Not found', { status: 404 });
    if (url.host === 'thumb') {
      const thumb = engine.resolveThumbnail(sha);
      if (!thumb) return new Response('Not found', { status: 404 });
      return new Response(Buffer.from(thumb.data), { headers: { 'Content-Type': `image/${thumb.format}` } });
    }
    const media = engine.resolveMedia(sha);
    if (!media) return new Response('Not found', { status: 404 });
    return net.fetch(pathToFileURL(media.file).href);
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  await createWindow(engine);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow(engine);
  });
  app.on('window-all-closed', () => {
    void engine.close().finally(() => app.quit());
  });
}

boot().catch((e: unknown) => {
  console.error('Facet failed to start:', e);
  app.exit(1);
});
