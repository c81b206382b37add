import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { RelayHttpError } from './http-errors';

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) => (text.startsWith(error.property) ? text.replace(error.property, path) : `${path}: ${text}`));
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/** Deeper input than any real request; class-transformer recurses and would overflow the stack (a 500). */
export const MAX_INPUT_DEPTH = 64;

/** Depth of nested arrays/objects, walked without recursion. */
export function nestingDepth(value: unknown, limit = MAX_INPUT_DEPTH): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

class DepthCheckedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (nestingDepth(value) > MAX_INPUT_DEPTH) {
      throw new RelayHttpError(400, 'too_deeply_nested', `The request ${metadata.type} is nested more than ${MAX_INPUT_DEPTH} levels deep`);
    }
    return super.transform(value, metadata);
  }
}

/** DTO validation for every route: unknown fields are dropped (not refused), wrong ones answer 400 in words. */
export function validationPipe(): ValidationPipe {
  return new DepthCheckedValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: false,
    exceptionFactory: (errors) => new RelayHttpError(400, 'validation_failed', flatten(errors).join('; ')),
  });
}
