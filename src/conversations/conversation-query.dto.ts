import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { SearchQuery, trimmed } from '../common/search-query';

/** Filters of the conversation list (the uContact "recordings": by date, campaign and user). */
export class ConversationQuery extends SearchQuery {
  @ApiPropertyOptional() @IsOptional() @Transform(trimmed) @IsString() @MaxLength(36, { message: 'integrationId must be an integration id' })
  integrationId?: string;

  @ApiPropertyOptional({ default: 25, maximum: 100 }) @IsOptional() @Type(() => Number) @IsInt({ message: 'pageSize must be a whole number' })
  @Min(1, { message: 'pageSize must be between 1 and 100' }) @Max(100, { message: 'pageSize must be between 1 and 100' })
  pageSize?: number;
}
