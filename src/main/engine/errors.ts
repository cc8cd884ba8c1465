import type { ErrorCode, Issue } from '../../shared/contract';

/** An error the engine means to show to the user, with the contract's error code. */
export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: Issue[],
  ) {
    super(message);
  }
}
