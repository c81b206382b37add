import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, MaxLength, Min } from 'class-validator';

/** class-transformer hook: strings arrive trimmed. */
export const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** The filters every history search shares: date range, customer, text, page. Page sizes differ per list. */
export class SearchQuery {
  @ApiPropertyOptional({ description: 'ISO date: at or after' })
  @IsOptional() @IsISO8601({}, { message: 'from must be an ISO date, e.g. 2025-05-14 or 2025-05-14T10:00:00Z' })
  from?: string;

  @ApiPropertyOptional({ description: 'ISO date: before (a bare date includes that whole day)' })
  @IsOptional() @IsISO8601({}, { message: 'to must be an ISO date, e.g. 2025-05-14 or 2025-05-14T10:00:00Z' })
  to?: string;

  @ApiPropertyOptional({ description: 'The customer id (PSID or author id) or part of the name' })
  @IsOptional() @Transform(trimmed) @IsString() @MaxLength(200, { message: 'customer must be 200 characters or fewer' })
  customer?: string;

  @ApiPropertyOptional({ description: 'Text contained in a message' })
  @IsOptional() @Transform(trimmed) @IsString() @MaxLength(200, { message: 'q must be 200 characters or fewer' })
  q?: string;

  @ApiPropertyOptional({ default: 1 }) @IsOptional() @Type(() => Number) @IsInt({ message: 'page must be a whole number' }) @Min(1, { message: 'page must be 1 or more' })
  page?: number;
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
