import type { FieldError } from '../events/business-event';

/** A client's mistake: maps to HTTP 400 with the offending fields. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    message: string,
    readonly errors: FieldError[],
  ) {
    super(message);
  }
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** The request is well-formed but conflicts with the resource's state (HTTP 409). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  /** The fields in conflict, when one names it (an idempotency key reused for another request). */
  constructor(
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
  }
}

/**
 * A page cursor the store never returned (tampered, another profile's, not base64): the client's mistake, one type for
 * every paged port so each route answers it the same (400 naming `cursor`).
 */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  constructor(what: string, received: string) {
    super(`invalid ${what} cursor: expected a cursor this store returned, received ${JSON.stringify(received.slice(0, 64))}`);
  }
}
