/**
 * The vendored Cilium Hubble protos (proto/, see its README), loaded once: the protobufjs reflection root for the
 * protojson conversion, and from it proto-loader's definitions for gRPC.
 */
import * as path from 'node:path';
import { fromJSON, type PackageDefinition } from '@grpc/proto-loader';
import { Root } from 'protobufjs';
import { repoRoot } from '../../core/paths';
import { TO_OBJECT_OPTIONS } from './protojson';

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
