/** The token of an `Authorization: Bearer <token>` header, or null when the header is missing or another scheme. */
export function bearerToken(authorization: string | undefined): string | null {
  const match = typeof authorization === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return match ? match[1] : null;
}
