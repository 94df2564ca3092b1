/**
 * Takes secrets out of text that may reach a log line, an error message or a report: the configured secrets
 * themselves (client secret, refresh token, issued tokens), and anything shaped like one (a bearer token, a JWT,
 * a PEM block, `access_token=…` / `"refresh_token": "…"` pairs), whatever endpoint or library wrote it.
 */
export const REDACTED = '[redacted]';

const SHAPES: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]+-----[\s\S]*?(?:-----END [A-Z ]+-----|$)/g, REDACTED],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*/g, REDACTED],
  [
    /(["']?\b(?:access_token|refresh_token|id_token|client_secret|client_assertion|assertion|token|password|private_key)["']?\s*[:=]\s*["']?)[^"'&\s,}]+/gi,
    `$1${REDACTED}`,
  ],
];

/** `text` with every known secret and every secret-shaped run replaced by [redacted]. */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) {
    // Very short values would redact ordinary words; no real secret is that short.
    if (s && s.length >= 6) out = out.split(s).join(REDACTED);
  }
  for (const [shape, replacement] of SHAPES) out = out.replace(shape, replacement);
  return out;
}
