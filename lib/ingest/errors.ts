import { InputError } from '../inputs/errors.ts';

/** Missing or wrong credentials. The message says what is expected, never what was received. */
export class UnauthorizedError extends InputError {
  override name = 'UnauthorizedError';
  constructor() {
    super(401, [{ path: '$header.authorization', message: 'missing or invalid credentials: send Authorization: Bearer <token>, ?token=<token>, or X-Signature-256' }]);
  }
}

/** The route or method is not one this endpoint serves. */
export class RouteError extends InputError {
  override name = 'RouteError';
  constructor(status: 404 | 405, message: string) {
    super(status, [{ path: '$path', message }]);
  }
}
