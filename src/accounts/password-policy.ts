import { RelayHttpError } from '../common/errors/http-errors';
import { COMMON_PASSWORDS } from './common-passwords';

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 128;

/** Why a new password is refused, in words, or null when it is acceptable. */
export function passwordProblem(password: string, email: string): string | null {
  if ([...password].length < PASSWORD_MIN_LENGTH) return `The password is too short: use at least ${PASSWORD_MIN_LENGTH} characters.`;
  if ([...password].length > PASSWORD_MAX_LENGTH) return `The password is too long: use at most ${PASSWORD_MAX_LENGTH} characters.`;
  const lower = password.toLowerCase();
  const localPart = email.split('@')[0];
  if (lower === email || (localPart.length >= 4 && lower.includes(localPart))) return 'The password must not contain your e-mail address.';
  if (COMMON_PASSWORDS.has(lower) || /^(.)\1+$/.test(password) || /^(.{1,3})\1+$/.test(password)) {
    return 'This password is too common or too easy to guess; choose another one.';
  }
  return null;
}

export function assertGoodPassword(password: string, email: string): void {
  const problem = passwordProblem(password, email);
  if (problem) throw new RelayHttpError(400, 'weak_password', problem);
}
