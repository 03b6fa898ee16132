// Removes the request's secrets (password, tokens, in plain and URL-encoded form) from an
// upstream text before it can reach a message: an error page may echo what it was sent.
export function scrub (text: string, secrets: Array<string | undefined>): string {
  let out = text
  for (const secret of secrets) {
    if (secret === undefined || secret.length < 4) continue
    for (const form of new Set([secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)])) {
      out = out.split(form).join('[redacted]')
    }
  }
  return out
}
