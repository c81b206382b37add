import { Transform } from 'class-transformer';
import {
  IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, Validate,
  ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface,
} from 'class-validator';
import { MysqlUrlError, parseMysqlUrl } from './mysql-url';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  const text = String(value).toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(text)) return true;
  if (['false', '0', 'no', 'off'].includes(text)) return false;
  return value; // left as is so IsBoolean names it as wrong
};
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/** DATABASE_URL as parseMysqlUrl reads it; the message says what is wrong (a socketPath, the URL's syntax). */
@ValidatorConstraint({ name: 'mysqlUrl' })
class MysqlUrl implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return mysqlUrlProblem(value) === undefined;
  }

  defaultMessage(args: ValidationArguments): string {
    return mysqlUrlProblem(args.value) ?? 'is invalid';
  }
}

function mysqlUrlProblem(value: unknown): string | undefined {
  try {
    parseMysqlUrl(String(value));
    return undefined;
  } catch (error) {
    if (error instanceof MysqlUrlError) return error.message;
    throw error;
  }
}

/**
 * The environment as the operator writes it (CONTRACT.md's table and a few additions).
 * Validated once at boot by loadConfig(); nothing else reads process.env.
 */
export class EnvSchema {
  @IsOptional() @Transform(toInt) @Min(1) @Max(65535) @IsInt({ message: 'must be a whole number' })
  PORT?: number;

  @IsOptional() @Transform(emptyToUndefined)
  @Matches(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, { message: 'must be an http(s) URL without query or fragment, e.g. https://relay.example.com' })
  PUBLIC_URL?: string;

  @IsOptional() @Transform(emptyToUndefined) @Validate(MysqlUrl)
  DATABASE_URL?: string;

  @IsOptional() @Transform(emptyToUndefined)
  @Matches(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// or rediss:// URL, e.g. redis://host:6379/0 (unset for the in-process queue)' })
  REDIS_URL?: string;

  @IsOptional() @Transform(emptyToUndefined) @IsString() @MinLength(1)
  DATA_DIR?: string;

  @IsOptional() @Transform(emptyToUndefined) @IsIn(['api', 'worker', 'all'], { message: 'must be one of api, worker, all' })
  ROLE?: 'api' | 'worker' | 'all';

  @IsOptional() @Transform(emptyToUndefined) @IsString()
  NODE_ENV?: string;

  @IsOptional() @Transform(emptyToUndefined)
  @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'must be 32 random bytes in base64 (44 characters), e.g. from: openssl rand -base64 32' })
  ENCRYPTION_KEY?: string;

  @IsOptional() @Transform(emptyToUndefined)
  @Matches(/^[A-Za-z0-9+/]{43}=(,[A-Za-z0-9+/]{43}=)*$/, { message: 'must be a comma-separated list of base64 32-byte keys' })
  ENCRYPTION_KEY_PREVIOUS?: string;

  @IsOptional() @Transform(emptyToUndefined) @Matches(/^\d{1,32}$/, { message: 'must be the numeric app id from the Facebook App Dashboard' })
  FACEBOOK_APP_ID?: string;

  @IsOptional() @Transform(emptyToUndefined) @MinLength(8, { message: 'looks too short for a Facebook app secret' }) @IsString()
  FACEBOOK_APP_SECRET?: string;

  @IsOptional() @Transform(emptyToUndefined) @MinLength(8, { message: 'must be at least 8 characters' }) @MaxLength(200) @IsString()
  FACEBOOK_VERIFY_TOKEN?: string;

  @IsOptional() @Transform(emptyToUndefined)
  @Matches(/^https?:\/\/[^\s?#]+$/, { message: 'must be an http(s) base URL, e.g. https://graph.facebook.com' })
  FACEBOOK_GRAPH_URL?: string;

  @IsOptional() @Transform(emptyToUndefined)
  @Matches(/^https?:\/\/[^\s?#]+$/, { message: 'must be an http(s) base URL, e.g. https://www.facebook.com' })
  FACEBOOK_DIALOG_URL?: string;

  @IsOptional() @Transform(emptyToUndefined) @Matches(/^v\d+\.\d+$/, { message: 'must look like v24.0' })
  FACEBOOK_GRAPH_VERSION?: string;

  @IsOptional() @Transform(emptyToUndefined) @Matches(/^smtps?:\/\/\S+$/, { message: 'must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587' })
  SMTP_URL?: string;

  @IsOptional() @Transform(emptyToUndefined) @Matches(/^(.*<)?[^\s@<>]+@[^\s@<>]+>?$/, { message: 'must be an e-mail address, e.g. relay@example.com or "Relay <relay@example.com>"' })
  MAIL_FROM?: string;

  @IsOptional() @Transform(toBool) @IsBoolean({ message: 'must be true or false' })
  ALLOW_PRIVATE_TARGETS?: boolean;

  @IsOptional() @Transform(emptyToUndefined) @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'must be one of fatal, error, warn, info, debug, trace, silent' })
  LOG_LEVEL?: string;

  @IsOptional() @Transform(emptyToUndefined) @Matches(/^[A-Za-z0-9_-]{1,40}$/, { message: 'must be 1 to 40 letters, digits, - or _' })
  QUEUE_PREFIX?: string;

  @IsOptional() @Transform(toInt) @Min(1) @Max(1000) @IsInt({ message: 'must be a whole number of notifications' })
  DELIVERY_CONCURRENCY?: number;

  @IsOptional() @Transform(toInt) @Min(1) @Max(3650) @IsInt({ message: 'must be a whole number of days' })
  RETENTION_DAYS?: number;

  @IsOptional() @Transform(toInt) @Min(1) @Max(1440) @IsInt({ message: 'must be a whole number of minutes' })
  ALERT_FAILING_MINUTES?: number;

  @IsOptional() @Transform(toBool) @IsBoolean({ message: 'must be true or false' })
  SANDBOX?: boolean;

  @IsOptional() @Transform(emptyToUndefined) @Matches(/^[\x21-\x7e]{16,200}$/, { message: 'must be 16 to 200 printable characters without spaces, e.g. the output of: openssl rand -hex 32' })
  METRICS_TOKEN?: string;
}
