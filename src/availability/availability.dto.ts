import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, IsArray, IsBoolean, IsInt, IsNumber, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested,
  registerDecorator, ValidationArguments,
} from 'class-validator';
import { isValidTimezone, TIME_PATTERN } from './schedule';

function IsTimezone(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => registerDecorator({
    name: 'isTimezone',
    target: target.constructor,
    propertyName: String(propertyName),
    options: { message: (args: ValidationArguments) => `timezone "${String(args.value)}" is not a known IANA time zone (e.g. Europe/Lisbon, America/New_York, UTC)` },
    validator: { validate: (value: unknown) => typeof value === 'string' && isValidTimezone(value) },
  });
}

function DiffersFromStart(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => registerDecorator({
    name: 'differsFromStart',
    target: target.constructor,
    propertyName: String(propertyName),
    options: { message: 'a schedule range must not start and end at the same time (use 00:00 to 24:00 for a whole day)' },
    validator: { validate: (value: unknown, args: ValidationArguments) => value !== (args.object as { from?: unknown }).from },
  });
}

export class ScheduleRangeDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 7, description: 'Monday = 1 … Sunday = 7' })
  @IsInt({ message: 'day must be a whole number from 1 (Monday) to 7 (Sunday)' })
  @Min(1, { message: 'day must be from 1 (Monday) to 7 (Sunday)' })
  @Max(7, { message: 'day must be from 1 (Monday) to 7 (Sunday)' })
  day: number;

  @ApiPropertyOptional({ example: '09:00' })
  @IsString({ message: 'from must be a time like 09:00' })
  @Matches(/^(?:[01]\d|2[0-3]):[0-5]\d$/, { message: 'from must be a time like 09:00 (24-hour clock)' })
  from: string;

  @ApiPropertyOptional({ example: '18:00', description: 'Earlier than from: the range runs into the next day' })
  @IsString({ message: 'to must be a time like 18:00' })
  @Matches(TIME_PATTERN, { message: 'to must be a time like 18:00 (24-hour clock; 24:00 for the end of the day)' })
  @DiffersFromStart()
  to: string;
}

/** Every field optional: the ones left out keep their current (or default) value. */
export class AvailabilityDto {
  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;

  @ApiPropertyOptional({ default: 'UTC', description: 'IANA time zone' })
  @IsOptional()
  @IsString({ message: 'timezone must be text' })
  @IsTimezone()
  timezone?: string;

  @ApiPropertyOptional({ type: [ScheduleRangeDto] })
  @IsOptional()
  @IsArray({ message: 'days must be a list of {day, from, to}' })
  @ArrayMaxSize(100, { message: 'days holds at most 100 ranges' })
  @ValidateNested({ each: true })
  @Type(() => ScheduleRangeDto)
  days?: ScheduleRangeDto[];

  @ApiPropertyOptional({ maxLength: 1000 })
  @IsOptional()
  @IsString({ message: 'afterHoursMessage must be text' })
  @MaxLength(1000, { message: 'afterHoursMessage must be 1000 characters or fewer' })
  afterHoursMessage?: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean({ message: 'forwardAfterHours must be true or false' })
  forwardAfterHours?: boolean;

  @ApiPropertyOptional({ default: 12, minimum: 1, maximum: 720 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'afterHoursIntervalHours must be a number of hours' })
  @Min(1, { message: 'afterHoursIntervalHours must be between 1 and 720' })
  @Max(720, { message: 'afterHoursIntervalHours must be between 1 and 720' })
  afterHoursIntervalHours?: number;
}
