/**
 * The one place where requests from any door are validated against the contract and dispatched
 * to the engine. Every door is thin: it turns its wire format into (method, payload) and back.
 */
import {
  isMethod,
  METHOD_NAMES,
  methods,
  toIssues,
  type ApiErrorBody,
  type Envelope,
} from '../../shared/contract';
import type { Handlers } from '../engine';
import { EngineError } from '../engine/errors';

export interface Router {
  handle(method: unknown, payload: unknown): Promise<Envelope<unknown>>;
}

export interface RouterOptions {
  /** Where unexpected errors are reported (their details never reach the caller). */
  log?: (message: string, error: unknown) => void;
}

export function createRouter(handlers: Handlers, options: RouterOptions = {}): Router {
  const log = options.log ?? ((message, error) => console.error(message, error));
  const fail = (error: ApiErrorBody): Envelope<unknown> => ({ ok: false, error });

  return {
    async handle(method, payload) {
      if (!isMethod(method)) {
        return fail({
          code: 'unknown_method',
          message: `Unknown method ${JSON.stringify(method)}. Known methods: ${METHOD_NAMES.join(', ')}.`,
        });
      }
      const spec = methods[method];
      const parsed = spec.request.safeParse(payload ?? {});
      if (!parsed.success) {
        return fail({
          code: 'invalid_request',
          message: `Invalid request to ${method}`,
          issues: toIssues(parsed.error),
        });
      }
      try {
        const handler = handlers[method] as (r: unknown) => unknown;
        const data = await handler(parsed.data);
        const checked = spec.response.safeParse(data);
        if (!checked.success) {
          log(`Response of ${method} broke the contract`, checked.error);
          return fail({ code: 'internal', message: `The engine produced a malformed response to ${method}.` });
        }
        return { ok: true, data: checked.data };
      } catch (e) {
        if (e instanceof EngineError) return fail({ code: e.code, message: e.message, issues: e.issues });
        log(`Unexpected error in ${method}`, e);
        return fail({ code: 'internal', message: `Internal error in ${method}: ${(e as Error).message ?? e}` });
      }
    },
  };
}
