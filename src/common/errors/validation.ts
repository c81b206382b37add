import { ValidationError, ValidationPipe } from '@nestjs/common';
import { RelayHttpError } from './http-errors';

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) => (text.startsWith(error.property) ? text.replace(error.property, path) : `${path}: ${text}`));
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/** DTO validation for every route: unknown fields are dropped (not refused), wrong ones answer 400 in words. */
export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: false,
    exceptionFactory: (errors) => new RelayHttpError(400, 'validation_failed', flatten(errors).join('; ')),
  });
}
