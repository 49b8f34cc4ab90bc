// Masks secrets in a URL before it is printed. The URL is parsed (WHATWG rules, as PostgreSQL's and Kafka's
// clients read it) rather than matched by a pattern: a password holding '@' or ':' and secrets passed as
// query parameters (?password=, ?sslpassword=, ?token=) are then masked whole.

const MASK = '***';
// Query parameter names that carry a secret in the clients we use (libpq's password and sslpassword, tokens,
// keys, signatures of presigned URLs).
const SECRET_PARAM = /pass|pwd|secret|token|key|credential|signature|auth/i;

/** The URL with its password and secret-looking query values masked; never the input when it will not parse. */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // What cannot be parsed cannot be masked reliably, so none of it is shown.
    return '[unparseable URL, not shown]';
  }
  if (url.password !== '') url.password = MASK;
  for (const name of new Set(url.searchParams.keys())) {
    if (SECRET_PARAM.test(name)) url.searchParams.set(name, MASK);
  }
  return url.toString();
}
