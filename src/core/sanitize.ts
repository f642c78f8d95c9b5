/* eslint-disable no-control-regex -- matching control characters is what this module is for */
/**
 * Untrusted text (commit messages, log lines, metric labels, reasons people type) escaped per channel.
 * Each function is for one place the text ends up; none of them is enough for another. Pure.
 */

// ANSI escape sequences: CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \), and any other ESC + one char.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]?|\u009b[0-?]*[ -/]*[@-~]/g;
// C0 and C1 controls and DEL, the Unicode line/paragraph separators, and bidi overrides/isolates (which
// reorder what a reader sees, e.g. to make a fake link look like the real one).
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

/** Controls removed but line breaks kept: for multi-line Slack sections built from escaped parts. */
export function withoutControls(s: string): string {
  return s.replace(ANSI, ' ').replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g, ' ');
}

/**
 * One line of plain text: terminal escapes removed, every control or line break a space, runs of space
 * collapsed. For email text (SNS) and anything else that is one line a person reads: nothing untrusted
 * can start a line of its own, so no fake "Approve: https://…" line.
 */
export function plainLine(s: string): string {
  return s.replace(ANSI, ' ').replace(CONTROLS, ' ').replace(/ {2,}/g, ' ').trim();
}

/** For a terminal: no escape sequence (colour, cursor moves, title changes, OSC 8 links) survives. */
export function terminalText(s: string): string {
  return plainLine(s);
}

/**
 * For Slack mrkdwn and the `text` of any message, update or thread reply: `&`, `<`, `>` escaped, so
 * `<!channel>`, `<@U123>` and `<https://evil|https://real>` are shown, never parsed. One line.
 */
export function slackText(s: string): string {
  return plainLine(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The URL if it is absolute http(s), else null: pages link nothing else (no javascript:, data:, file:). */
export function safeHttpUrl(s: string | null | undefined): string | null {
  if (!s) return null;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}
