/** Query parameters and JSON fields whose values never reach a log line or an API answer. */
const SECRET_NAMES = /^(token|apikey|api_key|access_token|client_secret|code|password|secret|hub\.verify_token|fb_exchange_token|input_token|appsecret_proof|key|signature)$/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAMES.test(name);
}

/** A URL with its secret query values and any credentials replaced by "***". */
export function redactUrl(raw: string): string {
  try {
    const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw);
    const url = new URL(raw, 'http://relative.invalid');
    if (url.username) url.username = '***';
    if (url.password) url.password = '***';
    for (const name of [...url.searchParams.keys()]) {
      if (isSecretName(name)) url.searchParams.set(name, '***');
    }
    const text = url.toString().replace(/%2A%2A%2A/g, '***');
    return absolute ? text : text.replace('http://relative.invalid', '');
  } catch {
    return '[unparseable url]';
  }
}
