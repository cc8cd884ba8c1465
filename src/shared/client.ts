/**
 * The typed client every consumer of the API uses. A door only has to supply `send` (one raw
 * request -> envelope) and an event source; the rest (types, response validation, errors) is here.
 */
import {
  describeIssues,
  FacetEvent,
  methods,
  type ApiErrorBody,
  type Envelope,
  type ErrorCode,
  type Issue,
  type Method,
  type Req,
  type Res,
} from './contract';

export class FacetApiError extends Error {
  readonly code: ErrorCode;
  readonly issues: Issue[];
  constructor(body: ApiErrorBody) {
    const detail = body.issues?.length ? `: ${describeIssues(body.issues)}` : '';
    super(`${body.message}${detail}`);
    this.name = 'FacetApiError';
    this.code = body.code;
    this.issues = body.issues ?? [];
  }
}

export interface FacetApi {
  call<M extends Method>(method: M, request: Req<M>): Promise<Res<M>>;
  /** Returns the unsubscribe function. */
  subscribe(listener: (event: FacetEvent) => void): () => void;
  /** URL under which the window can display a stored original. */
  mediaUrl(sha256: string): string;
  /** URL of an original's thumbnail (upright, at most 256 px): what grids show. */
  thumbUrl(sha256: string): string;
  /**
   * A file the user dropped or picked, as an absolute path the engine can import: its own path in
   * the window, an uploaded copy over the loopback door. `name` may carry one folder ("Person/a.jpg").
   */
  importPath(file: File, name: string, batch: string): Promise<string>;
}

export interface DoorLink {
  send(method: string, payload: unknown): Promise<Envelope<unknown>>;
  onEvent(listener: (raw: unknown) => void): () => void;
  mediaUrl(sha256: string): string;
  thumbUrl(sha256: string): string;
  /** Doors without files to hand over (the CLI names paths) leave it out. */
  importPath?(file: File, name: string, batch: string): Promise<Envelope<{ path: string }>>;
}

export function createClient(link: DoorLink): FacetApi {
  return {
    async call(method, request) {
      const envelope = await link.send(method, request);
      if (!envelope.ok) throw new FacetApiError(envelope.error);
      const parsed = methods[method].response.safeParse(envelope.data);
      if (!parsed.success) {
        throw new FacetApiError({ code: 'internal', message: `Malformed response to ${method}` });
      }
      return parsed.data as Res<typeof method>;
    },
    subscribe(listener) {
      return link.onEvent((raw) => {
        const parsed = FacetEvent.safeParse(raw);
        if (parsed.success) listener(parsed.data);
      });
    },
    mediaUrl: (sha256) => link.mediaUrl(sha256),
    thumbUrl: (sha256) => link.thumbUrl(sha256),
    async importPath(file, name, batch) {
      if (!link.importPath) throw new FacetApiError({ code: 'invalid_request', message: 'this door imports files by their path only' });
      const envelope = await link.importPath(file, name, batch);
      if (!envelope.ok) throw new FacetApiError(envelope.error);
      return envelope.data.path;
    },
  };
}
