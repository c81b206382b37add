import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsNotEmpty, IsObject, IsOptional, IsString, Matches, MaxLength, ValidateIf, ValidateNested } from 'class-validator';
import { AvailabilityDto } from '../availability/availability.dto';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateIntegrationDto {
  @ApiProperty({ maxLength: 100 })
  @Transform(trim)
  @IsString({ message: 'name must be text' })
  @IsNotEmpty({ message: 'name is required' })
  @MaxLength(100, { message: 'name must be 100 characters or fewer' })
  name: string;

  @ApiProperty({ description: 'Id of a page the connected Facebook user manages' })
  @Transform(trim)
  @IsString({ message: 'pageId must be text' })
  @Matches(/^\d{1,64}$/, { message: 'pageId must be a Facebook page id (digits only)' })
  pageId: string;

  @ApiProperty({ description: 'The Receive URL of the Open Channel account (or its proxy URL)' })
  @Transform(trim)
  @IsString({ message: 'openchannelUrl must be text' })
  @IsNotEmpty({ message: 'openchannelUrl is required' })
  openchannelUrl: string;

  @ApiPropertyOptional({ description: 'Contact center API key (never returned)' })
  @IsOptional()
  @Transform(trim)
  @IsString({ message: 'apiKey must be text' })
  @MaxLength(512, { message: 'apiKey must be 512 characters or fewer' })
  apiKey?: string;

  @ApiPropertyOptional({ default: true, description: 'Facebook wall post management' })
  @IsOptional()
  @IsBoolean({ message: 'wallPosts must be true or false' })
  wallPosts?: boolean;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;
}

export class UpdateIntegrationDto {
  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @Transform(trim)
  @IsString({ message: 'name must be text' })
  @IsNotEmpty({ message: 'name must not be empty' })
  @MaxLength(100, { message: 'name must be 100 characters or fewer' })
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;

  @ApiPropertyOptional({ description: 'A new Receive URL; re-verified before it is saved' })
  @IsOptional()
  @Transform(trim)
  @IsString({ message: 'openchannelUrl must be text' })
  @IsNotEmpty({ message: 'openchannelUrl must not be empty' })
  openchannelUrl?: string;

  @ApiPropertyOptional({ nullable: true, description: 'A new API key (null or "" removes it); re-verified' })
  @IsOptional()
  @Transform(trim)
  @ValidateIf((_, value) => value !== null)
  @IsString({ message: 'apiKey must be text or null' })
  @MaxLength(512, { message: 'apiKey must be 512 characters or fewer' })
  apiKey?: string | null;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean({ message: 'wallPosts must be true or false' })
  wallPosts?: boolean;

  @ApiPropertyOptional({ description: 'Answer within 7 days with the HUMAN_AGENT tag' })
  @IsOptional()
  @IsBoolean({ message: 'humanAgentTag must be true or false' })
  humanAgentTag?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean({ message: 'forwardReactions must be true or false' })
  forwardReactions?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean({ message: 'forwardEdits must be true or false' })
  forwardEdits?: boolean;

  @ApiPropertyOptional({ nullable: true, description: 'Secret to sign notifications with (write-only; null removes it)' })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString({ message: 'signingSecret must be text or null' })
  @MaxLength(256, { message: 'signingSecret must be 256 characters or fewer' })
  signingSecret?: string | null;
  @ApiPropertyOptional({ type: AvailabilityDto, description: 'Schedule and after-hours message; fields left out keep their value' })
  @IsOptional()
  @IsObject({ message: 'availability must be an object' })
  @ValidateNested()
  @Type(() => AvailabilityDto)
  availability?: AvailabilityDto;
}
