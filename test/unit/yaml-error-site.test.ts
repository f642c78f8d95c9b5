import { describe, expect, it } from 'vitest';
import { parsePolicy, PolicyInvalidError } from '../../src/policy/load.js';

const messages = (text: string): string[] => {
  try {
    parsePolicy(text, 'p.yaml');
  } catch (err) {
    if (err instanceof PolicyInvalidError) return err.message.split('\n');
    throw err;
  }
  throw new Error('parsed');
};

describe('YAML syntax errors are reported where the mistake is, under its key (issue 15 bug 7)', () => {
  it('an unclosed quote: the line where the quote opened, not the end of the file', () => {
    expect(messages('version: 1\nserver:\n  port: 8080\n  host: "127.0.0.1\napproval:\n  ttl: 30m\n')).toEqual(['p.yaml:4:9: server.host: YAML: Missing closing "quote']);
  });

  it('an unclosed bracket: the line where the bracket opened', () => {
    expect(messages('version: 1\ngroups:\n  oncall: [alice, bob\napproval:\n  ttl: 30m\n')[0]).toMatch(/^p\.yaml:3:11: groups\.oncall: YAML: Flow sequence/);
  });

  it('an unclosed bracket inside a list item (the next line indented): the line where the bracket opened, under the item key', () => {
    expect(messages('version: 1\nmetrics:\n  - id: a\n    dimensions: [x, y\n  - id: b\n')[0]).toMatch(/^p\.yaml:4:17: metrics\.0\.dimensions: YAML: /);
  });

  it('a tab used as indentation stays on its own line, with the enclosing key', () => {
    expect(messages('version: 1\nserver:\n  port: 8080\n\thost: x\n')).toEqual(['p.yaml:4:1: server: YAML: Tabs are not allowed as indentation']);
  });
});
