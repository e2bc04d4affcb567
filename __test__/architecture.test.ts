/**
 * The layering the README's "How it works" describes, checked on the sources: TypeScript imports
 * only point down (spec -> plan -> build/inspect -> cli), and no module of TypeScript or of a Rust
 * crate imports, through any chain, a module that imports it back.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');

function filesUnder(dir: string, keep: (file: string) => boolean): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter(keep)
    .sort();
}

/** A cycle in a graph given as adjacency sets, as a list of nodes, or undefined. */
function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

test('findCycle finds a cycle and only a cycle', (t) => {
  const graph = (edges: Array<[string, string]>) => {
    const g = new Map<string, Set<string>>();
    for (const [a, b] of edges) g.set(a, (g.get(a) ?? new Set()).add(b));
    return g;
  };
  t.is(findCycle(graph([['a', 'b'], ['b', 'c'], ['a', 'c']])), undefined);
  t.deepEqual(findCycle(graph([['a', 'b'], ['b', 'c'], ['c', 'a']])), ['a', 'b', 'c', 'a']);
});

// ---- TypeScript ----

const tsRoot = path.join(root, 'ts');
const tsFiles = filesUnder(tsRoot, (f) => f.endsWith('.ts'));
const rel = (file: string) => path.relative(tsRoot, file).replace(/\.ts$/, '');

/** Layer of a module: a module may import only from lower layers, or its own folder. */
function tsLayer(module: string): number {
  if (module === 'index') return 7;
  const folder = module.includes('/') ? module.split('/')[0] : '';
  const layers: Record<string, number> = { '': 1, spec: 2, plan: 3, build: 4, inspect: 4, deliver: 5, cli: 6 };
  return layers[folder] ?? 0;
}

function tsImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const targets = [...text.matchAll(/\bfrom '(\.[^']+)'|\bimport '(\.[^']+)'|require\('(\.[^']+)'\)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
  return targets
    .map((target) => path.resolve(path.dirname(file), target))
    .filter((target) => target.startsWith(tsRoot + path.sep))
    .map((target) => path.relative(tsRoot, target));
}

const tsGraph = new Map(tsFiles.map((file) => [rel(file), new Set(tsImports(file))]));

test('every TypeScript module is in a known layer', (t) => {
  t.deepEqual([...tsGraph.keys()].filter((m) => tsLayer(m) === 0), []);
});

test('TypeScript imports point down a layer: spec -> plan -> build, inspect -> deliver -> cli', (t) => {
  const upward: string[] = [];
  for (const [module, imports] of tsGraph) {
    const folder = path.dirname(module);
    for (const target of imports) {
      const sameFolder = path.dirname(target) === folder;
      if (!sameFolder && tsLayer(target) >= tsLayer(module)) upward.push(`${module} -> ${target}`);
    }
  }
  t.deepEqual(upward, []);
});

test('no TypeScript import cycles', (t) => {
  t.is(findCycle(tsGraph)?.join(' -> '), undefined);
});

// ---- Rust: modules of each crate ----

/** `src/read/mod.rs` -> `read`, `src/read/dir.rs` -> `read::dir`, `src/lib.rs` -> ``. */
function rustModule(src: string, file: string): string {
  const parts = path.relative(src, file).replace(/\.rs$/, '').split(path.sep);
  if (parts.at(-1) === 'mod' || parts.at(-1) === 'lib') parts.pop();
  return parts.join('::');
}

/** The sibling modules, below their nearest common ancestor, that a reference from `a` to `b` connects. */
function siblingEdge(a: string, b: string): [string, string] | undefined {
  const pa = a === '' ? [] : a.split('::');
  const pb = b === '' ? [] : b.split('::');
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  if (i === pa.length || i === pb.length) return undefined; // one contains the other
  return [pa.slice(0, i + 1).join('::'), pb.slice(0, i + 1).join('::')];
}

for (const crate of fs.readdirSync(path.join(root, 'crates')).sort()) {
  const src = path.join(root, 'crates', crate, 'src');
  if (!fs.existsSync(src)) continue;
  test(`no module cycles in crates/${crate}`, (t) => {
    // Test modules import what they test; they are not part of the layering.
    const files = filesUnder(src, (f) => f.endsWith('.rs') && !/_tests\.rs$|[/\\]tests?[/\\]|[/\\]tests\.rs$|test_/.test(f));
    const modules = new Set(files.map((f) => rustModule(src, f)));
    const resolve = (from: string, reference: string): string | undefined => {
      let parts = reference.split('::');
      let base = from === '' ? [] : from.split('::');
      if (parts[0] === 'crate') {
        base = [];
        parts = parts.slice(1);
      } else {
        while (parts[0] === 'super') {
          base = base.slice(0, -1);
          parts = parts.slice(1);
        }
        if (parts[0] === 'self') parts = parts.slice(1);
      }
      // The longest prefix that is a module.
      for (let n = parts.length; n >= 0; n--) {
        const candidate = [...base, ...parts.slice(0, n)].join('::');
        if (modules.has(candidate)) return candidate;
      }
      return undefined;
    };
    const graph = new Map<string, Set<string>>();
    for (const file of files) {
      const from = rustModule(src, file);
      const text = fs.readFileSync(file, 'utf8').replace(/#\[cfg\(test\)\][\s\S]*$/, '');
      for (const match of text.matchAll(/\b((?:crate|super)(?:::\w+)+)/g)) {
        const to = resolve(from, match[1]);
        if (to === undefined) continue;
        const edge = siblingEdge(from, to);
        if (edge) graph.set(edge[0], (graph.get(edge[0]) ?? new Set()).add(edge[1]));
      }
      // `use crate::{a, b::C}` groups.
      for (const group of text.matchAll(/use (crate|super)::\{([^}]*)\}/g)) {
        for (const name of group[2].split(',').map((s) => s.trim().split('::')[0]).filter(Boolean)) {
          const to = resolve(from, `${group[1]}::${name}`);
          const edge = to === undefined ? undefined : siblingEdge(from, to);
          if (edge) graph.set(edge[0], (graph.get(edge[0]) ?? new Set()).add(edge[1]));
        }
      }
    }
    t.is(findCycle(graph)?.join(' -> '), undefined);
  });
}
