/** The kernel's per-socket UDP drop count, read from /proc/net/udp{,6} lines. */
import { procAddress, udpSocketDrops } from '../../ingest/socket-drops';

const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  412: 0100007F:1283 00000000:0000 07 00000000:00000000 00 00000000:00000000 00000000     0        0 41234 2 0000000000000000 0
  413: 00000000:1283 00000000:0000 07 00000000:0001F400 00 00000000:00000000 00000000     0        0 41235 2 0000000000000000 1731
`;
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
   98: 00000000000000000000000001000000:18BB 00000000000000000000000000000000:0000 07 00000000:00000000 00 00000000:00000000 00000000     0        0 51234 2 0000000000000000 42
`;
const read = (file: string) => (file.endsWith('udp6') ? UDP6 : UDP);

describe('UDP socket drops', () => {
  it('spells addresses as the kernel does, word by word in host order', () => {
    expect(procAddress('127.0.0.1')).toBe('0100007F');
    expect(procAddress('10.1.2.3')).toBe('0302010A');
    expect(procAddress('::1')).toBe('00000000000000000000000001000000');
  });

  it('reads the drops of the socket bound to that address and port, not of another address on the port', () => {
    expect(udpSocketDrops('0.0.0.0', 4739, read)).toBe(1731);
    expect(udpSocketDrops('127.0.0.1', 4739, read)).toBe(0);
    expect(udpSocketDrops('::1', 6331, read)).toBe(42);
  });

  it('answers unknown for a socket not in the table, or a table that cannot be read', () => {
    expect(udpSocketDrops('127.0.0.1', 2055, read)).toBeUndefined();
    expect(udpSocketDrops('127.0.0.1', 4739, () => {
      throw new Error('ENOENT');
    })).toBeUndefined();
  });
});
