import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RelayHttpError } from './http-errors';

const BODY_PARSER_ERRORS: Record<string, { status: number; message: string }> = {
  'entity.too.large': { status: 413, message: 'The request body is too large' },
  'entity.parse.failed': { status: 400, message: 'The request body is not valid JSON' },
  'encoding.unsupported': { status: 415, message: 'The request body encoding is not supported' },
  'charset.unsupported': { status: 415, message: 'The request body charset is not supported' },
  'request.aborted': { status: 400, message: 'The request was aborted' },
};

/**
 * Every error leaves as JSON `{statusCode, message, error}`. Caller mistakes keep their 4xx and
 * message; anything unexpected is logged with its stack and answered with a 500 naming the request id.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const response = context.getResponse<Response>();
    const request = context.getRequest<Request & { id?: string }>();
    if (response.headersSent) return;

    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      if (exception instanceof RelayHttpError) {
        for (const [name, value] of Object.entries(exception.headers)) response.setHeader(name, value);
      }
      const message = typeof body === 'string' ? body : (body as { message?: unknown }).message ?? exception.message;
      const error = typeof body === 'object' && body && 'error' in body ? String((body as { error: unknown }).error) : exception.name;
      response.status(status).json({ statusCode: status, message: Array.isArray(message) ? message.join('; ') : message, error });
      return;
    }

    const parserError = exception as { type?: string; status?: number };
    const known = parserError?.type ? BODY_PARSER_ERRORS[parserError.type] : undefined;
    if (known || (parserError?.status && parserError.status >= 400 && parserError.status < 500)) {
      const status = known?.status ?? parserError.status!;
      response.status(status).json({ statusCode: status, message: known?.message ?? 'Bad request', error: 'bad_request' });
      return;
    }

    this.logger.error(`Unhandled error on ${request.method} ${request.route?.path ?? ''}: ${(exception as Error)?.stack ?? exception}`);
    response.status(500).json({
      statusCode: 500,
      message: `Something went wrong on the relay. Quote request id ${request.id ?? 'unknown'} if you report it.`,
      error: 'internal_error',
    });
  }
}
