/**
 * The vendored Cilium Hubble protos (proto/, see its README), loaded once: the protobufjs reflection root for the
 * protojson conversion, and from it proto-loader's definitions for gRPC.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fromJSON, type PackageDefinition } from '@grpc/proto-loader';
import { Root } from 'protobufjs';
import { TO_OBJECT_OPTIONS } from './protojson';

/** The directory holding package.json, from this file in the source tree (tests) or in dist/ (the build). */
export function repoRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The include directory: observer.proto imports "flow/flow.proto" and "relay/relay.proto" from here. */
export const PROTO_DIR = path.join(repoRoot(), 'ingest', 'hubble', 'proto');

export interface HubbleProtos {
  root: Root;
  /** Deserializers give toObject(TO_OBJECT_OPTIONS) objects with proto field names, ready for toProtoJson. */
  definition: PackageDefinition;
}

let loaded: HubbleProtos | undefined;

export function hubbleProtos(): HubbleProtos {
  if (loaded) return loaded;
  const root = new Root();
  // google/protobuf/*.proto imports never reach resolvePath: protobufjs bundles those well-known types.
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
  root.loadSync('observer/observer.proto', { keepCase: true }).resolveAll();
  loaded = { root, definition: fromJSON(root.toJSON(), { keepCase: true, ...TO_OBJECT_OPTIONS }) };
  return loaded;
}
