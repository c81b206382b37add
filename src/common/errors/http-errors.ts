import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * An error whose message a person can act on. The body is the contract's
 * `{statusCode, message, error}`; `error` is a stable machine-readable code.
 */
export class RelayHttpError extends HttpException {
  constructor(status: HttpStatus | number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super({ statusCode: status, message, error: code }, status);
  }
}
