import { describe, expect, it } from 'vitest';
import { Drain, preMask } from '../../src/incident/drain.js';

describe('pre-masking', () => {
  it.each([
    ['request_id=3f2a9c1e-7b4d-4e2a-9c61-0d5e2f1a0001 done', 'request_id=<UUID> done'],
    ['connect to 10.0.4.12:5432 failed', 'connect to <IP> failed'],
    ['peer fe80:0:0:0:202:b3ff:fe1e:8329 gone', 'peer <IP> gone'],
    ['trace 4bf92f3577b34da6a3ce929d0e0e4736 slow', 'trace <HEX> slow'],
    ['addr 0x7ffd5a3c segfault', 'addr <HEX> segfault'],
    ['took 2500ms and 3.5s, heap 512MB 97%', 'took <NUM> and <NUM>, heap <NUM> <NUM>'],
    ['2026-11-02T08:03:11.123Z INFO started', '<TS> INFO started'],
    ['order=123456 amount=12.50', 'order=<NUM> amount=<NUM>'],
    ['GET /cart/8812 200 in 3.25s', 'GET /cart/<NUM> 200 in <NUM>'],
    ['exit code 137 after 12 retries', 'exit code 137 after 12 retries'],
  ])('%s', (line, masked) => {
    expect(preMask(line)).toBe(masked);
  });

  it('leaves digits glued to letters alone (class names, s3), masks long numbers between separators (thread pools)', () => {
    expect(preMask('ERROR PaymentClientV2 in http-nio-8080-exec-7 via s3')).toBe('ERROR PaymentClientV2 in http-nio-<NUM>-exec-7 via s3');
  });
});

describe('Drain template mining', () => {
  it('lines of one event with different values share one cluster; its template masks what varies', () => {
    const d = new Drain();
    const a = d.add('Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106 dest: /10.250.19.102:50010');
    const b = d.add('Receiving block blk_-5432198765432198765 src: /10.250.10.6:40524 dest: /10.250.10.6:50010');
    expect(b.cluster.id).toBe(a.cluster.id);
    expect(d.template(a.cluster.id)).toBe('Receiving block blk_-<NUM> src: /<IP> dest: /<IP>');
    expect(a.cluster.size).toBe(2);
  });

  it('different events (same length) get different clusters', () => {
    const d = new Drain();
    const ok = d.add('INFO cart 8812 loaded in 23 ms');
    const err = d.add('ERROR PaymentClientV2 timeout calling payments service');
    expect(err.cluster.id).not.toBe(ok.cluster.id);
    expect(d.clusterCount).toBe(2);
  });

  it('lines of different token counts never share a cluster', () => {
    const d = new Drain();
    expect(d.add('user alice logged in').cluster.id).not.toBe(d.add('user alice logged in twice').cluster.id);
  });

  it('joins only at the similarity threshold: more than the threshold differing splits', () => {
    const strict = new Drain({ similarity: 0.9 });
    strict.add('job nightly-export finished with state ok');
    strict.add('job nightly-export finished with state failed');
    expect(strict.clusterCount).toBe(2);
    const loose = new Drain({ similarity: 0.5 });
    loose.add('job nightly-export finished with state ok');
    loose.add('job nightly-export finished with state failed');
    expect(loose.clusterCount).toBe(1);
    expect(loose.template(1)).toBe('job nightly-export finished with state <*>');
  });

  it('a variable first token goes down the <*> branch instead of splitting the tree', () => {
    const d = new Drain();
    for (let i = 0; i < 50; i++) d.add(`${1000 + i} connections open on ${['api', 'batch', 'cron'][i % 3]}`);
    expect(d.clusterCount).toBe(1);
    expect(d.template(1)).toBe('<NUM> connections open on <*>');
  });

  it('memory is bounded: at most maxClusters clusters, the least recently seen evicted', () => {
    const d = new Drain({ maxClusters: 10 });
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
    for (const a of words) for (const b of words) d.add(`${a} ${b} event happened`);
    expect(d.clusterCount).toBeLessThanOrEqual(10);
    expect(d.evicted).toBeGreaterThan(0);
    // A frequent event keeps its cluster.
    const hot = new Drain({ maxClusters: 3 });
    const first = hot.add('heartbeat ok from scheduler').cluster.id;
    for (const w of words) {
      hot.add(`${w} unique event ${w}`);
      expect(hot.add('heartbeat ok from scheduler').cluster.id).toBe(first);
    }
  });

  it('many distinct prefixes stay bounded by maxChildren per node and still cluster', () => {
    const d = new Drain({ maxChildren: 4 });
    const names = ['svc-a', 'svc-b', 'svc-c', 'svc-d', 'svc-e', 'svc-f'];
    for (const n of names) for (let i = 0; i < 3; i++) d.add(`${n.replace(/-/g, '_')}x started worker pool`);
    expect(d.clusterCount).toBeLessThanOrEqual(names.length);
  });

  it('refuses settings that make no sense, saying which', () => {
    expect(() => new Drain({ depth: 2 })).toThrow('Drain depth must be an integer >= 3, got 2');
    expect(() => new Drain({ similarity: 0 })).toThrow('Drain similarity must be in (0, 1], got 0');
    expect(() => new Drain({ similarity: 1.5 })).toThrow('Drain similarity must be in (0, 1], got 1.5');
    expect(() => new Drain({ maxChildren: 1 })).toThrow('Drain maxChildren must be an integer >= 2, got 1');
    expect(() => new Drain({ maxClusters: 0 })).toThrow('Drain maxClusters must be a positive integer, got 0');
  });
});
