'use strict';
/**
 * A collector's UDP socket, read in a worker thread of its own: the kernel's receive buffer is drained while
 * the main thread decodes, produces to Kafka or collects garbage, so a busy main loop costs memory here, not
 * datagrams. Datagrams go to the main thread in batches; at most `maxBytes` of them are in flight, and what
 * comes past that is dropped and counted (the main thread reports it), never queued without bound.
 *
 * Plain CommonJS: a worker runs a file, and this one runs as it is from the sources (the unit tests) and from
 * dist/ (the build copies it), with nothing to compile. ingest/listeners.ts is its only user.
 */
const dgram = require('node:dgram');
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');

const { host, port, receiveBufferBytes, maxBytes, batchDatagrams, flushMs } = workerData;
const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: receiveBufferBytes });
let batch = [];
let batchBytes = 0;
let inFlight = 0;
let dropped = 0;
let timer;

function flush() {
  clearTimeout(timer);
  timer = undefined;
  if (batch.length === 0 && dropped === 0) return;
  parentPort.postMessage({ type: 'datagrams', datagrams: batch, bytes: batchBytes, dropped });
  inFlight += batchBytes;
  batch = [];
  batchBytes = 0;
  dropped = 0;
}

socket.on('message', (msg, rinfo) => {
  if (inFlight + batchBytes + msg.length > maxBytes) {
    dropped++;
    timer ??= setTimeout(flush, flushMs);
    return;
  }
  batch.push([rinfo.address, msg]);
  batchBytes += msg.length;
  if (batch.length >= batchDatagrams) flush();
  else timer ??= setTimeout(flush, flushMs);
});
socket.on('error', (e) => parentPort.postMessage({ type: 'error', message: e.message, code: e.code }));

parentPort.on('message', (m) => {
  if (m.type === 'handled') inFlight -= m.bytes;
  else if (m.type === 'close') {
    socket.close(() => {
      flush();
      parentPort.postMessage({ type: 'closed' });
    });
  }
});

socket.bind(port, host, () => parentPort.postMessage({ type: 'bound', port: socket.address().port, rcvbuf: socket.getRecvBufferSize() }));
