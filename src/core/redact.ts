/**
 * Removes secrets from text that leaves the process (audit, pages, messages, model prompts):
 * AWS keys, bearer tokens, Slack tokens, passwords in URLs or key=value pairs, e-mail addresses.
 */
const RULES: readonly [RegExp, string][] = [
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, '<aws-access-key>'],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, '<slack-token>'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, 'Bearer <redacted>'],
  [/\b(password|passwd|pwd|secret|token|api[_-]?key|aws_secret_access_key)(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, '$1$2<redacted>'],
  [/(\w+:\/\/)[^/\s:@]+:[^/\s@]+@/g, '$1<redacted>@'],
  [/\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g, '<email>'],
];

export function redact(text: string): string {
  let out = text;
  for (const [re, rep] of RULES) out = out.replace(re, rep);
  return out;
}
