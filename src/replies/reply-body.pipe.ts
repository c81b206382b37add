import { Injectable, PipeTransform } from '@nestjs/common';
import { validationPipe } from '../common/errors/validation';
import { ReplyDto } from './reply.dto';

/** The properties ReplyDto declares: the only ones a reply keeps (the app's pipe drops the others too). */
const DECLARED = ['body', 'Contact', 'contact', 'to', 'Interaction', 'AttachmentId', 'id', 'privateReply'] as const;

/**
 * Validates the reply body. A body that plainly satisfies every rule of ReplyDto is taken as it is;
 * any other goes through the app's ValidationPipe, which answers the same 400 in words as on every
 * route. class-transformer and class-validator cost more per reply than the reply's own work.
 *
 * `acceptsAtOnce` must accept only bodies the ValidationPipe accepts: keep it in step with the
 * decorators of ReplyDto (test/replies/reply-body.spec.ts compares the two).
 */
@Injectable()
export class ReplyBodyPipe implements PipeTransform<unknown, Promise<ReplyDto>> {
  private readonly fallback = validationPipe();

  async transform(value: unknown): Promise<ReplyDto> {
    return plainReply(value) ?? ((await this.fallback.transform(value, { type: 'body', metatype: ReplyDto })) as ReplyDto);
  }
}

/** The ReplyDto of a body that plainly satisfies every rule, else null (the ValidationPipe decides). */
export function plainReply(value: unknown): ReplyDto | null {
  if (!acceptsAtOnce(value)) return null;
  const dto = new ReplyDto();
  for (const key of DECLARED) if (value[key] !== undefined) (dto as unknown as Record<string, unknown>)[key] = value[key];
  return dto;
}

export function acceptsAtOnce(value: unknown): value is Record<string, unknown> {
  if (!isObject(value)) return false;
  const body = value.body;
  // MaxLength counts a surrogate pair as one character: a string this short always passes.
  if (typeof body !== 'string' || body.length > 60_000) return false;
  return (
    optional(value.Contact, isObject) &&
    optional(value.contact, isObject) &&
    optional(value.Interaction, isObject) &&
    optional(value.to, isStringOrNumber) &&
    optional(value.AttachmentId, isStringOrNumber) &&
    optional(value.id, isStringOrNumber) &&
    optional(value.privateReply, (v) => typeof v === 'boolean')
  );
}

/** @IsOptional: null and undefined skip the other rules. */
function optional(value: unknown, rule: (value: unknown) => boolean): boolean {
  return value === undefined || value === null || rule(value);
}

/** class-validator's @IsObject, for values JSON can hold (the nested objects the relay reads from). */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !hasPrototypeKeys(value);
}

/** Keys the ValidationPipe deletes (prototype pollution): such a body takes the pipe's way. */
function hasPrototypeKeys(value: object): boolean {
  return Object.hasOwn(value, '__proto__') || Object.hasOwn(value, 'prototype') || Object.hasOwn(value, 'constructor');
}

/** `@ValidateIf(not a number) @IsString`: any number passes, else a string. */
function isStringOrNumber(value: unknown): boolean {
  return typeof value === 'number' || typeof value === 'string';
}
