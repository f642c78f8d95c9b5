import type { Announcement, Notifier } from '../../cloud/ports.js';
import { terminalText } from '../../core/sanitize.js';

/**
 * Prints announcements for a person watching the terminal: the proposal with the web address and the
 * exact command to approve it, then each decision and the final state.
 */
export class ConsoleNotifier implements Notifier {
  readonly channel = 'console';
  constructor(
    /** The runnable approve command(s) for an incident: one, or one per approver who can still approve. */
    private readonly approveCommand: (incidentId: string) => string | readonly string[] | Promise<string | readonly string[]>,
    private readonly write: (text: string) => void = (t) => void process.stdout.write(t),
  ) {}

  async announce(a: Announcement): Promise<void> {
    // Titles and texts carry commit messages and log lines: no terminal escape reaches the terminal.
    const lines = [`── ${terminalText(a.title)}`, `   ${terminalText(a.text)}`, `   ${terminalText(a.url)}`];
    if (a.kind === 'proposal' || a.kind === 'reminder') {
      const got = await this.approveCommand(a.incidentId);
      const commands = typeof got === 'string' ? [got] : got;
      for (const c of commands) lines.push(`   approve: ${terminalText(c)}`);
      if (commands[0] !== undefined) lines.push(`   reject:  ${terminalText(commands[0].replace(' approve ', ' reject '))} --reason "why"`);
    }
    this.write(`\n${lines.join('\n')}\n\n`);
  }
}
