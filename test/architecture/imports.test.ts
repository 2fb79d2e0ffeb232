import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The import graph of the app's own code (lib, app, components and the root modules), read from
 * the source: it has no cycle, and the layers point one way (README, "Architecture"):
 *
 *   lib/core  ←  lib/{store,engines,limits,models,files,media,…}  ←  lib/jobs/domain
 *             ←  lib/jobs/pipeline  ←  lib/jobs/adapters, lib/webhooks/handle-delivery, lib/swr
 *             ←  app, components
 */

const ROOT = path.resolve(__dirname, "../..");
const SOURCE_DIRS = ["lib", "app", "components"];
const ROOT_FILES = ["instrumentation.ts", "proxy.ts", "next.config.ts"];
const EXTENSIONS = [".ts", ".tsx"];

function walk(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (EXTENSIONS.some((ext) => name.endsWith(ext))) out.push(path.relative(ROOT, full));
  }
  return out;
}

function resolve(spec: string): string | null {
  const base = spec.slice(2); // "@/lib/x" → "lib/x"
  for (const candidate of [base, ...EXTENSIONS.map((e) => base + e), ...EXTENSIONS.map((e) => `${base}/index${e}`)]) {
    if (existsSync(path.join(ROOT, candidate)) && statSync(path.join(ROOT, candidate)).isFile()) return candidate;
  }
  return null;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](@\/[^"']+)["']/g;

function importGraph(): Map<string, string[]> {
  const files = [
    ...SOURCE_DIRS.flatMap((d) => walk(path.join(ROOT, d), [])),
    ...ROOT_FILES.filter((f) => existsSync(path.join(ROOT, f))),
  ];
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(path.join(ROOT, file), "utf8");
    const targets = new Set<string>();
    for (const m of text.matchAll(IMPORT)) {
      if (m[1]!.endsWith(".json")) continue; // data, not code
      const target = resolve(m[1]!);
      if (!target) throw new Error(`${file}: cannot resolve ${m[1]}`);
      targets.add(target);
    }
    graph.set(file, [...targets]);
  }
  return graph;
}

/** Strongly connected components with more than one module (or a module importing itself). */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
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
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** Layers from the bottom up; a module may import its own layer and those below it. */
const LAYERS: { name: string; test: (file: string) => boolean }[] = [
  { name: "core", test: (f) => f.startsWith("lib/core/") },
  {
    name: "services",
    test: (f) => f.startsWith("lib/") && !/^lib\/(jobs|swr)\//.test(f) && !f.startsWith("lib/webhooks/handle-"),
  },
  { name: "domain", test: (f) => f.startsWith("lib/jobs/domain/") },
  { name: "pipeline", test: (f) => f.startsWith("lib/jobs/pipeline/") },
  // The routes' and pages' helpers, the webhook handler, and the browser's data hooks.
  { name: "adapters", test: (f) => /^lib\/(jobs\/adapters|swr)\//.test(f) || f.startsWith("lib/webhooks/handle-") },
  { name: "app", test: () => true },
];

const layerOf = (file: string) => LAYERS.findIndex((l) => l.test(file));

describe("the import graph", () => {
  const graph = importGraph();

  it("reads the whole tree", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(
      [...graph.keys()]
        .filter((f) => f.startsWith("lib/jobs/"))
        .every((f) => /^lib\/jobs\/(domain|pipeline|adapters)\//.test(f)),
    ).toBe(true);
  });

  it("has no cycle", () => {
    expect(cycles(graph)).toEqual([]);
  });

  it("points one way: no module imports a layer above its own", () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        if (layerOf(target) > layerOf(file))
          upward.push(`${file} (${LAYERS[layerOf(file)]!.name}) → ${target} (${LAYERS[layerOf(target)]!.name})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("finds a cycle and an upward import when there is one (the check itself)", () => {
    const bad = new Map([
      ["lib/store/a.ts", ["lib/jobs/pipeline/b.ts"]],
      ["lib/jobs/pipeline/b.ts", ["lib/store/a.ts"]],
    ]);
    expect(cycles(bad)).toEqual([["lib/jobs/pipeline/b.ts", "lib/store/a.ts"]]);
    expect(layerOf("lib/jobs/pipeline/b.ts")).toBeGreaterThan(layerOf("lib/store/a.ts"));
  });
});
