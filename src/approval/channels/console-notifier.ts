import type { Announcement, Notifier } from '../../cloud/ports.js';
import { terminalText } from '../../core/sanitize.js';

/**
 * Prints announcements for a person watching the terminal: the proposal with the web address and the
 * exact command to approve it, then each decision and the final state.
 */
export class ConsoleNotifier implements Notifier {
  readonly channel = 'console';
  constructor(
    private readonly approveCommand: (incidentId: string) => string,
    private readonly write: (text: string) => void = (t) => void process.stdout.write(t),
  ) {}

  async announce(a: Announcement): Promise<void> {
    // Titles and texts carry commit messages and log lines: no terminal escape reaches the terminal.
    const lines = [`── ${terminalText(a.title)}`, `   ${terminalText(a.text)}`, `   ${terminalText(a.url)}`];
    if (a.kind === 'proposal' || a.kind === 'reminder') {
      lines.push(`   approve: ${terminalText(this.approveCommand(a.incidentId))}`);
      lines.push(`   reject:  ${terminalText(this.approveCommand(a.incidentId).replace(' approve ', ' reject '))} --reason "…"`);
    }
    this.write(`\n${lines.join('\n')}\n\n`);
  }
}
