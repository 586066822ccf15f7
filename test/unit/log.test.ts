/** The log never carries a URL's user:password@, whatever shape the value it sits in has. */
import { createLogger } from '../../core/log';

// The module object itself (not an import namespace), so writeSync can be swapped for the test.
const fs = require('node:fs') as typeof import('node:fs');

function capture(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  // createLogger writes to fd 2 synchronously: catch what reaches it through a temporary fs.writeSync hook.
  const writeSync = fs.writeSync;
  (fs as { writeSync: unknown }).writeSync = (fd: number, data: string | Uint8Array, ...rest: unknown[]) => {
    if (fd === 2) {
      lines.push(String(data));
      return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    }
    return (writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
  };
  return { lines, restore: () => void ((fs as { writeSync: unknown }).writeSync = writeSync) };
}

describe('log', () => {
  it('redacts URL credentials in messages, fields, errors and non-error err values', () => {
    const out = capture();
    try {
      const log = createLogger('info');
      log.info({ config: { clickhouse: { url: 'https://u:pw1@ch:8443' } }, list: ['http://a:pw2@x'] }, 'connecting to http://b:pw3@y/');
      log.error({ err: new Error('fetch http://k:pw4@h failed') }, 'boom');
      log.warn({ err: 'plain http://q:pw5@z' }, 'string err');
      log.warn({ err: { code: 'E' } }, 'object err');
      log.child({ stage: 's' }).warn({ url: 'http://c:pw6@e' }, 'child');
    } finally {
      out.restore();
    }
    const text = out.lines.join('');
    expect(out.lines.length).toBeGreaterThanOrEqual(5);
    expect(text).not.toMatch(/pw\d/);
    expect(text).toContain('https://***@ch:8443');
    expect(text).toContain('"msg":"connecting to http://***@y/"');
    expect(text).toContain('fetch http://***@h failed');
  });
});
