// import() of an ES module from the CLI. bin/berth.js runs the CommonJS bundle through vm.Script with a V8 code
// cache, and in Node 20 a script compiled from a code cache has no dynamic-import loader ("A dynamic import
// callback was not specified"); import() written in bin/berth.js itself works, so it lends it here. Node's
// builtins need none of this: the bundle loads them with require() (scripts/build.mjs lowers import()).
const HOOK = Symbol.for('berth.import');

/** Loads the ES module at `specifier` (a file: URL or a bare name). */
export function importModule(specifier: string): Promise<unknown> {
  const hook = (globalThis as { [HOOK]?: (s: string) => Promise<unknown> })[HOOK];
  return hook ? hook(specifier) : import(specifier);
}
