import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** Filters of the conversation list (the uContact "recordings": by date, campaign and user). */
export class ConversationQuery {
  @ApiPropertyOptional() @IsOptional() @Transform(trim) @IsString() @MaxLength(36, { message: 'integrationId must be an integration id' })
  integrationId?: string;

  @ApiPropertyOptional({ description: 'The customer id (PSID or author id) or part of the name' })
  @IsOptional() @Transform(trim) @IsString() @MaxLength(200, { message: 'customer must be 200 characters or fewer' })
  customer?: string;

  @ApiPropertyOptional({ description: 'Text contained in one of the messages' })
  @IsOptional() @Transform(trim) @IsString() @MaxLength(200, { message: 'q must be 200 characters or fewer' })
  q?: string;

  @ApiPropertyOptional({ description: 'ISO date: conversations with activity at or after' })
  @IsOptional() @IsISO8601({}, { message: 'from must be an ISO date, e.g. 2025-05-14 or 2025-05-14T10:00:00Z' })
  from?: string;

  @ApiPropertyOptional({ description: 'ISO date: conversations started before (a bare date includes that whole day)' })
  @IsOptional() @IsISO8601({}, { message: 'to must be an ISO date, e.g. 2025-05-14 or 2025-05-14T10:00:00Z' })
  to?: string;

  @ApiPropertyOptional({ default: 1 }) @IsOptional() @Type(() => Number) @IsInt({ message: 'page must be a whole number' }) @Min(1, { message: 'page must be 1 or more' })
  page?: number;

  @ApiPropertyOptional({ default: 25, maximum: 100 }) @IsOptional() @Type(() => Number) @IsInt({ message: 'pageSize must be a whole number' })
  @Min(1, { message: 'pageSize must be between 1 and 100' }) @Max(100, { message: 'pageSize must be between 1 and 100' })
  pageSize?: number;
}

/** '2025-05-14' means up to the end of that day (UTC); a full timestamp is taken as it is. */
export function rangeOf(query: { from?: string; to?: string }): { from?: Date; to?: Date } {
  const range: { from?: Date; to?: Date } = {};
  if (query.from) range.from = new Date(query.from);
  if (query.to) {
    const to = new Date(query.to);
    if (/^\d{4}-\d{2}-\d{2}$/.test(query.to)) to.setUTCDate(to.getUTCDate() + 1);
    range.to = to;
  }
  return range;
}

/** A LIKE pattern for `LIKE :p ESCAPE '!'` ('!' rather than a backslash: SQLite has no default escape). */
export function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
}
