import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { SearchQuery, trimmed } from '../common/search-query';

/** Messages in one page of a thread unless the request asks for another number. */
export const THREAD_PAGE_SIZE = 200;

/** Filters of the conversation list (the uContact "recordings": by date, campaign and user). */
export class ConversationQuery extends SearchQuery {
  @ApiPropertyOptional() @IsOptional() @Transform(trimmed) @IsString() @MaxLength(36, { message: 'integrationId must be an integration id' })
  integrationId?: string;

  @ApiPropertyOptional({ default: 25, maximum: 100 }) @IsOptional() @Type(() => Number) @IsInt({ message: 'pageSize must be a whole number' })
  @Min(1, { message: 'pageSize must be between 1 and 100' }) @Max(100, { message: 'pageSize must be between 1 and 100' })
  pageSize?: number;
}

/** One page of a thread: the latest `limit` messages before `before` (the `earlier` of the page after it). */
export class ThreadQuery {
  @ApiPropertyOptional({ description: 'A message id: the page ends just before it (the "earlier" value of the previous answer)' })
  @IsOptional() @Transform(trimmed) @IsString() @MaxLength(36, { message: 'before must be a message id (the "earlier" value of the previous answer)' })
  before?: string;

  @ApiPropertyOptional({ default: THREAD_PAGE_SIZE, maximum: 500 }) @IsOptional() @Type(() => Number) @IsInt({ message: 'limit must be a whole number' })
  @Min(1, { message: 'limit must be between 1 and 500' }) @Max(500, { message: 'limit must be between 1 and 500' })
  limit?: number;
}
