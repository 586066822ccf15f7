/**
 * The layers, enforced on the imports of every file (parsed by TypeScript's own pre-processor):
 * core ← inventory ← allocations ← stages (ingest, enrich, writer, detectors; none imports another) ← alerts,
 * dashboards, simulator ← api ← app ← cli, bench, scripts. Product code never imports test code, and no two product files
 * load each other in a cycle.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');

/** A directory's layer: it may import its own directory and any lower layer, nothing else. */
const LAYERS: Record<string, number> = {
  core: 0,
  inventory: 1,
  allocations: 2,
  ingest: 3, enrich: 3, writer: 3, detectors: 3,
  alerts: 4, dashboards: 4, simulator: 4,
  api: 5,
  app: 6,
  cli: 7, bench: 7, scripts: 7,
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

const topDir = (file: string) => path.relative(ROOT, file).split(path.sep)[0]!;

interface Import {
  file: string;
  /** `import type`: no module is loaded at run time, so it cannot make a load-order cycle. */
  typeOnly: boolean;
}

/** Project files a file imports (relative specifiers only; packages are not layers). */
function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const out: Import[] = [];
  for (const node of source.statements) {
    if (!(ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) || !node.moduleSpecifier) continue;
    const spec = (node.moduleSpecifier as ts.StringLiteral).text;
    if (!spec.startsWith('.')) continue;
    const typeOnly = ts.isImportDeclaration(node) ? !!node.importClause?.isTypeOnly : node.isTypeOnly;
    out.push({ file: resolve(file, spec), typeOnly });
  }
  return out;
}

function resolve(from: string, spec: string): string {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch { /* next */ }
  }
  throw new Error(`${path.relative(ROOT, from)} imports ${spec}, which does not exist`);
}

const product = Object.keys(LAYERS).flatMap((d) => {
  try {
    return sources(path.join(ROOT, d));
  } catch {
    return []; // a layer not written yet
  }
});
const graph = new Map(product.map((f) => [f, importsOf(f)]));

/** Why `from` may not import `to`, or undefined when it may. */
function violation(from: string, to: string): string | undefined {
  const a = topDir(from);
  const b = topDir(to);
  if (b === 'test') return 'product code imports test code';
  if (a === b) return undefined;
  const la = LAYERS[a];
  const lb = LAYERS[b];
  if (lb === undefined) return `${b}/ is not a layer`;
  if (la === undefined || lb > la) return `${a}/ is below ${b}/`;
  if (lb === la) return `${a}/ and ${b}/ are separate stages of one layer`;
  return undefined;
}

describe('layers', () => {
  it('reads the project', () => {
    expect(product.length).toBeGreaterThan(80);
    expect(graph.get(path.join(ROOT, 'app/app.ts'))).toContainEqual({ file: path.join(ROOT, 'writer/writer.ts'), typeOnly: false });
  });

  it('knows a violation when it sees one', () => {
    const f = (p: string) => path.join(ROOT, p);
    expect(violation(f('core/streams.ts'), f('allocations/stream.ts'))).toBe('core/ is below allocations/');
    expect(violation(f('writer/writer.ts'), f('ingest/collector.ts'))).toBe('writer/ and ingest/ are separate stages of one layer');
    expect(violation(f('bench/decode.ts'), f('test/ipfix-builder.ts'))).toBe('product code imports test code');
    expect(violation(f('ingest/producers.ts'), f('allocations/feed.ts'))).toBeUndefined();
    expect(violation(f('app/app.ts'), f('writer/writer.ts'))).toBeUndefined();
  });

  it('has every import point down the layers', () => {
    const bad = [...graph].flatMap(([from, tos]) => tos.flatMap(({ file: to }) => {
      const why = violation(from, to);
      return why ? [`${path.relative(ROOT, from)} -> ${path.relative(ROOT, to)}: ${why}`] : [];
    }));
    expect(bad).toEqual([]);
  });

  it('has no import cycle at run time', () => {
    // Tarjan's strongly connected components over the product's import graph.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    let next = 0;
    const visit = (v: string) => {
      index.set(v, next);
      low.set(v, next++);
      stack.push(v);
      onStack.add(v);
      for (const { file: w, typeOnly } of graph.get(v) ?? []) {
        if (typeOnly || !graph.has(w)) continue;
        if (!index.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) === index.get(v)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(path.relative(ROOT, w));
        } while (w !== v);
        if (scc.length > 1) cycles.push(scc.sort());
      }
    };
    for (const v of graph.keys()) if (!index.has(v)) visit(v);
    expect(cycles).toEqual([]);
  });
});
