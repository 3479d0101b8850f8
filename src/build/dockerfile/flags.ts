// Instruction flags (`--from=x`, `--link`, `--mount=...`) checked as BuildKit's BFlags (instructions/bflag.go):
// every flag must be declared by the instruction, booleans take true/false or nothing, strings need `=value`,
// repeatable flags collect every value, `--` stops flag processing.

export type FlagType = 'bool' | 'string' | 'strings';

export interface ParsedFlags {
  bool(name: string): boolean;
  /** The value of a string flag; undefined when not given. */
  string(name: string): string | undefined;
  strings(name: string): string[];
  /** Whether the flag appeared at all. */
  has(name: string): boolean;
}

/** Throws Error with the classic builder's message (moby 20.10 bflag.go: "Unknown flag: fro", "Missing a value on flag: x"). */
export function parseFlags(words: string[], spec: Record<string, FlagType>): ParsedFlags {
  const values = new Map<string, string>();
  const lists = new Map<string, string[]>();
  for (const a of words) {
    if (a === '--') break;
    if (!a.startsWith('--')) throw new Error(`arg should start with -- : ${a}`);
    const body = a.slice(2);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const hasValue = eq >= 0;
    const value = eq < 0 ? '' : body.slice(eq + 1);
    const type = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!type) throw new Error(`Unknown flag: ${name}`);
    if (type !== 'strings' && values.has(name)) throw new Error(`Duplicate flag specified: ${name}`);
    switch (type) {
      case 'bool': {
        if (hasValue && value === '') throw new Error(`Missing a value on flag: ${name}`);
        const v = value.toLowerCase();
        if (v !== '' && v !== 'true' && v !== 'false') throw new Error(`Expecting boolean value for flag ${name}, not: ${value}`);
        values.set(name, v === 'false' ? 'false' : 'true');
        break;
      }
      case 'string':
        if (!hasValue) throw new Error(`Missing a value on flag: ${name}`);
        values.set(name, value);
        break;
      case 'strings':
        if (!hasValue) throw new Error(`Missing a value on flag: ${name}`);
        lists.set(name, [...(lists.get(name) ?? []), value]);
        values.set(name, value);
        break;
    }
  }
  return {
    bool: (n) => values.get(n) === 'true',
    string: (n) => values.get(n),
    strings: (n) => lists.get(n) ?? [],
    has: (n) => values.has(n),
  };
}
