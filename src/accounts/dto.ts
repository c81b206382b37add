import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Matches, MaxLength, MinLength } from 'class-validator';

/** Addresses are compared trimmed, Unicode-normalised and lower-cased. */
export function normaliseEmail(value: unknown): unknown {
  return typeof value === 'string' ? value.normalize('NFC').trim().toLowerCase() : value;
}

export class EmailDto {
  @ApiProperty({ example: 'agent@example.com' })
  @Transform(({ value }) => normaliseEmail(value))
  @IsEmail({}, { message: 'email must be an e-mail address, like name@example.com' })
  @MaxLength(254)
  email: string;
}

export class CredentialsDto extends EmailDto {
  @ApiProperty({ minLength: 10, maxLength: 128, description: 'At least 10 characters, not a commonly used password' })
  @IsString()
  @MinLength(1, { message: 'password must not be empty' })
  @MaxLength(1024)
  password: string;
}

export class CodeDto extends EmailDto {
  @ApiProperty({ example: '123456', description: 'The 6-digit code from the e-mail' })
  @Transform(({ value }) => (typeof value === 'string' ? value.replace(/\s+/g, '') : value))
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be the 6 digits from the e-mail' })
  code: string;
}

export class ResetPasswordDto extends CodeDto {
  @ApiProperty({ minLength: 10, maxLength: 128, description: 'The new password' })
  @IsString()
  @MaxLength(1024)
  password: string;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @MinLength(1, { message: 'currentPassword must not be empty' })
  @MaxLength(1024)
  currentPassword: string;

  @ApiProperty({ minLength: 10, maxLength: 128 })
  @IsString()
  @MaxLength(1024)
  newPassword: string;
}

export class DeleteAccountDto {
  @ApiProperty({ description: 'The account password, to confirm' })
  @IsString()
  @MinLength(1, { message: 'password must not be empty' })
  @MaxLength(1024)
  password: string;
}

export class MessageDto {
  @ApiProperty({ example: 'Check your e-mail for a 6-digit code.' }) message: string;
}

export class MeDto {
  @ApiProperty() id: string;
  @ApiProperty() email: string;
}
