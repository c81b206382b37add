import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsDefined, IsObject, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';

/**
 * An agent reply as XCALLY Motion posts it to the Reply URL (open-channel.md §2). Only the fields
 * the relay reads are declared; every other field Motion sends is accepted and ignored.
 */
export class ReplyDto {
  @ApiProperty({ description: "The agent's text; the file's name when AttachmentId is set" })
  @IsDefined({ message: "body is required: the agent's text (or the file's name with an attachment)" })
  @IsString({ message: 'body must be a string' })
  @MaxLength(60_000, { message: 'body is too long (more than 60000 characters)' })
  body: string;

  @ApiPropertyOptional({ description: 'The contact; Contact.facebook holds the customer id' })
  @IsOptional()
  @IsObject({ message: 'Contact must be an object' })
  Contact?: Record<string, unknown> | null;

  @ApiPropertyOptional({ description: 'Lower-case contact sent by newer Motion versions' })
  @IsOptional()
  @IsObject({ message: 'contact must be an object' })
  contact?: Record<string, unknown> | null;

  @ApiPropertyOptional({ description: 'Motion 1: the recipient when Contact is missing' })
  @IsOptional()
  @ValidateIf((_, value) => typeof value !== 'number')
  @IsString({ message: 'to must be a string (the customer id)' })
  to?: string | number | null;

  @ApiPropertyOptional({ description: 'The interaction; Interaction.threadId is the post id of a wall thread' })
  @IsOptional()
  @IsObject({ message: 'Interaction must be an object' })
  Interaction?: Record<string, unknown> | null;

  @ApiPropertyOptional({ description: 'An agent attachment to fetch from the contact center' })
  @IsOptional()
  @ValidateIf((_, value) => typeof value !== 'number')
  @IsString({ message: 'AttachmentId must be a number or a string' })
  AttachmentId?: string | number | null;

  @ApiPropertyOptional({ description: "The contact center's message id: a repeat with the same id is sent once" })
  @IsOptional()
  @ValidateIf((_, value) => typeof value !== 'number')
  @IsString({ message: 'id must be a number or a string' })
  id?: string | number | null;

  @ApiPropertyOptional({ description: 'Relay extension: on a wall thread, answer the latest comment privately in Messenger' })
  @IsOptional()
  @IsBoolean({ message: 'privateReply must be true or false' })
  privateReply?: boolean;
}

/** Whom a reply answers: the customer id, and the wall thread ('' for Messenger). */
export interface ReplyRecipient {
  customerId: string;
  threadId: string;
}

/** The reply's recipient, or null when the body names no customer. */
export function recipientOfReply(dto: ReplyDto): ReplyRecipient | null {
  const customerId = recipientOf(dto);
  return customerId ? { customerId, threadId: threadOf(dto) } : null;
}

/** The customer id the reply goes to: `Contact.facebook`, the lower-case `contact.facebook`, or `to`. */
export function recipientOf(dto: ReplyDto): string | null {
  for (const candidate of [dto.Contact?.facebook, dto.contact?.facebook, dto.to]) {
    if (typeof candidate === 'number' && Number.isFinite(candidate)) return String(candidate);
    if (typeof candidate === 'string' && candidate.trim()) return candidate.trim();
  }
  return null;
}

/** The wall thread (post id) of the reply, or '' for a Messenger chat. */
export function threadOf(dto: ReplyDto): string {
  const threadId = dto.Interaction?.threadId;
  if (typeof threadId === 'number') return String(threadId);
  return typeof threadId === 'string' ? threadId.trim() : '';
}

export function attachmentIdOf(dto: ReplyDto): string | null {
  const id = dto.AttachmentId;
  if (typeof id === 'number') return String(id);
  return typeof id === 'string' && id.trim() ? id.trim() : null;
}
