#!/usr/bin/env node
/**
 * Checks that the folders of src/ import one way, as scripts/layers.json orders them.
 *
 * Reads the imports of every src/**\/*.ts with the TypeScript compiler's `preProcessFile` (the
 * same parse tsc does, so comments and strings never count), builds the folder graph, and
 * reports every edge against the order, every edge breaking an `onlyFrom`/`mayImport` rule, and
 * every cycle between folders. `import type` edges count like any other, except from the folders
 * listed in `typeImportsAllowed` (a command may name a type from anywhere).
 *
 * Usage: node scripts/check-layers.mjs [srcDir]   (exit 0: clean; exit 1: violations printed)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));

/** The folder of a file under src: its first path segment, or the file's own name for a root file. */
function folderOf(srcDir, file) {
  const rel = relative(srcDir, file).split(sep);
  return rel.length === 1 ? rel[0].replace(/\.ts$/, '') : rel[0];
}

function tsFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

/** The module specifiers `text` imports whose every binding is a type (`import type`, `export type`). */
function typeOnlySpecifiers(text, fileName) {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const typeOnly = new Set();
  const value = new Set();
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const clause = st.importClause;
      const allTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      (allTypes ? typeOnly : value).add(st.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      (st.isTypeOnly ? typeOnly : value).add(st.moduleSpecifier.text);
    }
  }
  return new Set([...typeOnly].filter((s) => !value.has(s)));
}

/**
 * The folder-level import edges of `srcDir`: one entry per (from, to) pair, with the files that
 * make it and whether every one of those imports is type-only.
 */
export function folderEdges(srcDir) {
  const edges = new Map();
  for (const file of tsFiles(srcDir)) {
    const text = readFileSync(file, 'utf8');
    const from = folderOf(srcDir, file);
    const typeOnly = typeOnlySpecifiers(text, file);
    const info = ts.preProcessFile(text, true, true);
    for (const ref of info.importedFiles) {
      const spec = ref.fileName;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      const rel = relative(srcDir, target);
      if (rel.startsWith('..')) continue;
      const to = folderOf(srcDir, target.replace(/\.js$/, '.ts'));
      if (to === from) continue;
      const key = `${from}\0${to}`;
      const edge = edges.get(key) ?? { from, to, files: [], typeOnly: true };
      const isType = typeOnly.has(spec);
      edge.typeOnly &&= isType;
      edge.files.push({ file: relative(srcDir, file), spec, typeOnly: isType });
      edges.set(key, edge);
    }
  }
  return [...edges.values()];
}

/** Every cycle of the folder graph (as lists of folders), one per strongly connected component. */
function cycles(edges) {
  const next = new Map();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  let counter = 0;
  const visit = (v) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/**
 * Checks `srcDir` against `layers` (the parsed layers.json).
 * @returns `violations`, one line each (empty when the layering holds), and the `pending`
 *   edges that still occur.
 */
export function checkLayers(srcDir, layers) {
  const tierOf = new Map();
  layers.tiers.forEach((tier, i) => tier.forEach((folder) => tierOf.set(folder, i)));
  const onlyFrom = layers.onlyFrom ?? {};
  const mayImport = layers.mayImport ?? {};
  const typeImportsAllowed = new Set(layers.typeImportsAllowed ?? []);
  const problems = [];
  const all = folderEdges(srcDir);
  const counted = [];
  for (const edge of all) {
    const files = (typeImportsAllowed.has(edge.from) ? edge.files.filter((f) => !f.typeOnly) : edge.files).map(
      (f) => f.file,
    );
    if (files.length === 0) continue;
    counted.push(edge);
    const where = [...new Set(files)].join(', ');
    const { from, to } = edge;
    if (!tierOf.has(from)) problems.push(`${from}: folder not in layers.json (${where})`);
    if (!tierOf.has(to)) problems.push(`${from} -> ${to}: folder not in layers.json (${where})`);
    if (tierOf.has(from) && tierOf.has(to) && tierOf.get(to) < tierOf.get(from))
      problems.push(`${from} -> ${to}: imports upward (${where})`);
    if (onlyFrom[to] && !onlyFrom[to].includes(from))
      problems.push(`${from} -> ${to}: ${to} may be imported only from ${onlyFrom[to].join(', ')} (${where})`);
    if (mayImport[from] && !mayImport[from].includes(to))
      problems.push(`${from} -> ${to}: ${from} may import only ${mayImport[from].join(', ')} (${where})`);
  }
  for (const cycle of cycles(counted)) problems.push(`cycle between folders: ${cycle.join(', ')}`);
  const pending = new Set(layers.pending ?? []);
  const edgeOf = (p) => /^(\S+ -> \S+):/.exec(p)?.[1];
  const violations = [...new Set(problems)].filter((p) => !pending.has(edgeOf(p))).sort();
  const seen = new Set(problems.map(edgeOf));
  const known = [...pending].filter((e) => seen.has(e)).sort();
  for (const e of [...pending].filter((e) => !seen.has(e)).sort())
    violations.push(`${e}: listed in pending but no longer occurs; remove it from layers.json`);
  return { violations, pending: known };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const srcDir = resolve(process.argv[2] ?? join(here, '..', 'src'));
  const layers = JSON.parse(readFileSync(join(here, 'layers.json'), 'utf8'));
  const { violations: problems, pending } = checkLayers(srcDir, layers);
  for (const e of pending) console.log(`pending (issue 11): ${e}`);
  for (const p of problems) console.log(p);
  if (problems.length > 0) {
    console.log(`${problems.length} layering violation(s); the order is in scripts/layers.json`);
    process.exit(1);
  }
  console.log('layers: the folders of src/ import one way');
}
