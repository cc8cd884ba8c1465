/**
 * The loopback door: serves the built renderer and the same API as the Electron window, to a
 * browser on this machine only.
 *
 * Threats it answers: other users/sites on the machine (random per-run token, HttpOnly
 * SameSite=Strict cookie), cross-site requests from pages the user visits (Origin check, JSON
 * content type required), DNS rebinding (Host check), and path traversal (static files and
 * originals are resolved against fixed roots only).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiErrorBody, ErrorCode, FacetEvent } from '../../shared/contract';
import type { Router } from './router';

export const SESSION_COOKIE = 'facet_session';
const MAX_BODY_BYTES = 1024 * 1024;
const SHA_RE = /^[0-9a-f]{64}$/;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  unknown_method: 404,
  not_found: 404,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  cancelled: 409,
  internal: 500,
};

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

const IMAGE_MIME: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  tiff: 'image/tiff',
  gif: 'image/gif',
};

export interface LoopbackOptions {
  router: Router;
  /** Subscribes to engine events; returns the unsubscribe function. */
  subscribe: (listener: (event: FacetEvent) => void) => () => void;
  /** Folder of the built renderer (index.html + assets). */
  rendererDir: string;
  /** Resolves a stored original to its file and format, or undefined when not catalogued. */
  resolveMedia: (sha256: string) => { file: string; format: string } | undefined;
  resolveThumbnail?: (sha256: string) => { data: Uint8Array; format: string } | undefined;
  /** Stores a file uploaded by the page (POST /upload); errors with a `status` (400, 413) are the caller's. */
  receiveUpload?: (request: { batch?: string; name: string; declaredBytes?: number }, body: AsyncIterable<Buffer>) => Promise<{ path: string; bytes: number; batch: string }>;
  host?: string;
  port?: number;
  token?: string;
}

export interface LoopbackServer {
  readonly url: string;
  /** URL that carries the token; opening it in a browser signs that browser in. */
  readonly loginUrl: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host);
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

function sendError(res: http.ServerResponse, error: ApiErrorBody): void {
  sendJson(res, STATUS[error.code], { ok: false, error });
}

export async function startLoopbackServer(options: LoopbackOptions): Promise<LoopbackServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new Error(`Refusing to listen on ${host}: the loopback door only binds to 127.0.0.1, ::1 or localhost.`);
  }
  const token = options.token ?? randomBytes(32).toString('hex');
  const rendererRoot = path.resolve(options.rendererDir);
  let port = 0;

  const allowedHosts = (): Set<string> =>
    new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const allowedOrigins = (): Set<string> =>
    new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]);

  /** Host and Origin checks; returns an error to send, or undefined when the request may proceed. */
  const checkSite = (req: http.IncomingMessage): ApiErrorBody | undefined => {
    if (!allowedHosts().has(req.headers.host ?? '')) {
      return { code: 'forbidden', message: 'Host not allowed: Facet answers only on its loopback address.' };
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) {
      return { code: 'forbidden', message: `Origin ${origin} is not allowed.` };
    }
    return undefined;
  };

  const isAuthorized = (req: http.IncomingMessage): boolean => {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && safeEqual(auth.slice(7).trim(), token)) return true;
    const cookie = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    return cookie !== undefined && safeEqual(cookie, token);
  };

  const readBody = (req: http.IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
        reject(new Error('too large'));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      // Past the limit the rest is drained, not kept, so that the 413 reply still reaches the caller.
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      });
      req.on('end', () => {
        if (size > MAX_BODY_BYTES) reject(new Error('too large'));
        else resolve(Buffer.concat(chunks).toString('utf8'));
      });
      req.on('error', reject);
    });

  const serveFile = async (
    res: http.ServerResponse,
    file: string,
    contentType: string,
    extraHeaders: Record<string, string> = {},
  ): Promise<boolean> => {
    let info;
    try {
      info = await stat(file);
    } catch {
      return false;
    }
    if (!info.isFile()) return false;
    res.writeHead(200, {
      'Content-Type': contentType,
      'Content-Length': info.size,
      'X-Content-Type-Options': 'nosniff',
      ...extraHeaders,
    });
    createReadStream(file).pipe(res);
    return true;
  };

  const handleApi = async (req: http.IncomingMessage, res: http.ServerResponse, method: string): Promise<void> => {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      sendJson(res, 405, { ok: false, error: { code: 'invalid_request', message: 'API calls use POST.' } });
      return;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      sendJson(res, 415, {
        ok: false,
        error: { code: 'invalid_request', message: 'API calls must send Content-Type: application/json.' },
      });
      return;
    }
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      res.setHeader('Connection', 'close');
      sendJson(res, 413, {
        ok: false,
        error: { code: 'invalid_request', message: `Request body over ${MAX_BODY_BYTES} bytes.` },
      });
      return;
    }
    let payload: unknown;
    try {
      payload = body.length ? JSON.parse(body) : {};
    } catch {
      sendError(res, { code: 'invalid_request', message: 'The request body is not valid JSON.' });
      return;
    }
    const envelope = await options.router.handle(method, payload);
    if (envelope.ok) sendJson(res, 200, envelope);
    else sendError(res, envelope.error);
  };

  // A browser cannot hand Facet a path: dropped or picked files come here as raw bytes, one per POST,
  // and are then imported by the path this returns. Octet-stream, not a form: cross-site pages cannot
  // send it without a preflight, which the Origin check refuses.
  const handleUpload = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    const refuse = (status: number, message: string): void => {
      res.setHeader('Connection', 'close');
      sendJson(res, status, { ok: false, error: { code: 'invalid_request', message } });
    };
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return refuse(405, 'Uploads use POST.');
    }
    if (!options.receiveUpload) return refuse(404, 'This door takes no uploads.');
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/octet-stream') return refuse(415, 'Uploads must send Content-Type: application/octet-stream.');
    const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
    try {
      const data = await options.receiveUpload({ batch: url.searchParams.get('batch') ?? undefined, name: url.searchParams.get('name') ?? '', declaredBytes: declared }, req);
      sendJson(res, 200, { ok: true, data });
    } catch (e) {
      const status = (e as { status?: unknown }).status;
      if (status === 400 || status === 413) {
        // Whatever the client still sends is not read: the reply goes out and the connection closes.
        refuse(status, (e as Error).message);
        req.resume();
        return;
      }
      throw e;
    }
  };

  const handleStatic = async (res: http.ServerResponse, pathname: string): Promise<void> => {
    const rel = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
    const file = path.resolve(rendererRoot, rel);
    if (file !== rendererRoot && !file.startsWith(rendererRoot + path.sep)) {
      sendError(res, { code: 'not_found', message: 'Not found.' });
      return;
    }
    const ext = path.extname(file).toLowerCase();
    const headers: Record<string, string> =
      ext === '.html'
        ? { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'Cache-Control': 'no-store' }
        : { 'Cache-Control': 'no-cache' };
    const served = await serveFile(res, file, MIME[ext] ?? 'application/octet-stream', headers);
    if (!served) sendError(res, { code: 'not_found', message: `No such file: ${pathname}` });
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    const siteError = checkSite(req);
    if (siteError) return sendError(res, siteError);
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);

    // Sign-in: the printed URL carries the token once; it becomes a cookie and leaves the address bar.
    const offered = url.searchParams.get('token');
    if (offered !== null && req.method === 'GET') {
      if (!safeEqual(offered, token)) return sendError(res, { code: 'unauthorized', message: 'Wrong session token.' });
      res.writeHead(303, {
        'Set-Cookie': `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: url.pathname,
        'Cache-Control': 'no-store',
      });
      res.end();
      return;
    }
    if (!isAuthorized(req)) {
      return sendError(res, {
        code: 'unauthorized',
        message: 'Missing or wrong session token. Open the URL that `npm start` (or `facet serve`) printed.',
      });
    }
    if (url.pathname.startsWith('/api/')) return handleApi(req, res, url.pathname.slice(5));
    if (url.pathname === '/upload') return handleUpload(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(res, { code: 'invalid_request', message: `${req.method} is not allowed here.` });
    }
    if (url.pathname.startsWith('/media/')) {
      const sha = url.pathname.slice(7);
      if (!SHA_RE.test(sha)) return sendError(res, { code: 'invalid_request', message: 'Not a SHA-256.' });
      const media = options.resolveMedia(sha);
      const served =
        media &&
        (await serveFile(res, media.file, IMAGE_MIME[media.format] ?? 'application/octet-stream', {
          'Cache-Control': 'private, max-age=31536000, immutable',
        }));
      if (!served) sendError(res, { code: 'not_found', message: `No original ${sha} in the catalog.` });
      return;
    }
    if (url.pathname.startsWith('/thumbs/')) {
      const sha = url.pathname.slice(8);
      if (!SHA_RE.test(sha)) return sendError(res, { code: 'invalid_request', message: 'Not a SHA-256.' });
      const thumb = options.resolveThumbnail?.(sha);
      if (!thumb) return sendError(res, { code: 'not_found', message: `No thumbnail for ${sha} in the catalog.` });
      res.writeHead(200, {
        'Content-Type': IMAGE_MIME[thumb.format] ?? 'application/octet-stream',
        'Content-Length': thumb.data.byteLength,
        'Cache-Control': 'private, max-age=31536000, immutable',
        'X-Content-Type-Options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : thumb.data);
      return;
    }
    return handleStatic(res, url.pathname);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, { code: 'internal', message: (e as Error).message });
      else res.destroy();
    });
  });

  // Events go out over one WebSocket per window; the socket is receive-only for the browser.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const reject = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/events') return reject(404, 'Not Found');
    if (checkSite(req)) return reject(403, 'Forbidden');
    if (!isAuthorized(req)) return reject(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', () => ws.close(1003, 'This socket only sends events.'));
    });
  });
  const unsubscribe = options.subscribe((event) => {
    const text = JSON.stringify(event);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host === '::1' ? '[::1]' : host;
  const base = `http://${shownHost}:${port}/`;

  return {
    url: base,
    loginUrl: `${base}?token=${token}`,
    port,
    token,
    close: async () => {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
