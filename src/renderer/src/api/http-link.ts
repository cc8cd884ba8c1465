import type { DoorLink } from '../../../shared/client';
import type { Envelope } from '../../../shared/contract';

/**
 * The loopback door seen from the page: same-origin POSTs for calls and one WebSocket for events.
 * The session cookie set at sign-in authenticates both; the page never sees the token.
 */
export function createHttpLink(base: URL = new URL(window.location.href)): DoorLink {
  const listeners = new Set<(raw: unknown) => void>();
  let socket: WebSocket | undefined;
  let retry = 500;

  const connect = (): void => {
    const url = new URL('/events', base);
    url.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(url);
    socket.onopen = () => {
      retry = 500;
    };
    socket.onmessage = (m) => {
      let raw: unknown;
      try {
        raw = JSON.parse(String(m.data));
      } catch {
        return;
      }
      for (const l of listeners) l(raw);
    };
    socket.onclose = () => {
      socket = undefined;
      // Reconnect with back-off: the server may be restarting.
      if (listeners.size > 0) setTimeout(connect, (retry = Math.min(retry * 2, 10_000)));
    };
  };

  return {
    async send(method, payload) {
      let res: Response;
      try {
        res = await fetch(new URL(`/api/${encodeURIComponent(method)}`, base), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(payload ?? {}),
          credentials: 'same-origin',
        });
      } catch (e) {
        return {
          ok: false,
          error: { code: 'internal', message: `Facet's engine is not reachable (${(e as Error).message}). Is it still running?` },
        };
      }
      try {
        return (await res.json()) as Envelope<unknown>;
      } catch {
        return { ok: false, error: { code: 'internal', message: `Unexpected reply from the engine (HTTP ${res.status}).` } };
      }
    },
    onEvent(listener) {
      listeners.add(listener);
      if (!socket) connect();
      return () => listeners.delete(listener);
    },
    mediaUrl: (sha256) => new URL(`/media/${encodeURIComponent(sha256)}`, base).href,
    thumbUrl: (sha256) => new URL(`/thumbs/${encodeURIComponent(sha256)}`, base).href,
    // A page has no file paths: the bytes go up, and the engine imports its stored copy.
    async importPath(file, name, batch) {
      const url = new URL('/upload', base);
      url.searchParams.set('batch', batch);
      url.searchParams.set('name', name);
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: file, credentials: 'same-origin' });
      } catch (e) {
        return { ok: false, error: { code: 'internal', message: `${name} could not be sent (${(e as Error).message})` } };
      }
      try {
        return (await res.json()) as Envelope<{ path: string }>;
      } catch {
        return { ok: false, error: { code: 'internal', message: `Unexpected reply to the upload of ${name} (HTTP ${res.status}).` } };
      }
    },
  };
}
