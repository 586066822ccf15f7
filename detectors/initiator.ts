/**
 * Which end of a flow opened the connection: an alert blames the initiator. DPUs export both directions of a
 * connection, so the reply of a node an outsider reached looks like that node reaching out.
 */
import type { Flow } from '../core/flow';

const SYN = 0x02;
const ACK = 0x10;
/** Below this a port is a service's, not an ephemeral one (IANA's dynamic range starts at 49152, Linux's at 32768). */
const EPHEMERAL_FROM = 32768;

/** false when the flow is most likely the reply direction (the destination opened the connection). */
export function sourceInitiated(f: Flow): boolean {
  if (f.is_reply !== undefined) return !f.is_reply;
  // A bare SYN opens a connection; a record's flags are the union over its packets, so SYN with ACK says nothing.
  if (f.protocol === 6 && (f.tcp_flags & (SYN | ACK)) === SYN) return true;
  return !(f.src_port < EPHEMERAL_FROM && f.dst_port >= EPHEMERAL_FROM);
}
