/** A small seeded fuzzer: the same seed gives the same cases, so a failure can be replayed (FUZZ_SEED). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20251121);

const STRINGS = [
  '', ' ', 'x', '0', '-1', 'null', 'true', '[]', '{}', '\u0000', '\ud800', '💥🔥', 'é\u0301', '<script>alert(1)</script>',
  "' OR 1=1 --", '"; DROP TABLE messages; --', '%s%n%x', '../../etc/passwd', '${jndi:ldap://x}', '__proto__', 'constructor',
  'http://169.254.169.254/latest/meta-data/', 'a'.repeat(5000), 'b'.repeat(70_000), '2024-13-45', '1e309', 'NaN',
];

export function randomValue(rnd: () => number, depth = 0): unknown {
  const pick = Math.floor(rnd() * (depth > 2 ? 9 : 12));
  switch (pick) {
    case 0: return null;
    case 1: return rnd() < 0.5;
    case 2: return [0, -1, 1, 2 ** 53 + 1, -(2 ** 63), 1e308, 0.5, -0][Math.floor(rnd() * 8)];
    case 3: case 4: case 5: return STRINGS[Math.floor(rnd() * STRINGS.length)];
    case 6: return String(Math.floor(rnd() * 1e15));
    case 7: return JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}');
    case 8: return [];
    case 9: return Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => randomValue(rnd, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < 1 + Math.floor(rnd() * 3); i++) out[STRINGS[Math.floor(rnd() * 10)] || 'k'] = randomValue(rnd, depth + 1);
      return out;
    }
  }
}

/** A copy of `value` with 1–3 random changes: a leaf replaced, a key removed, an unknown key added, a type swapped. */
export function mutate<T>(value: T, rnd: () => number): unknown {
  const copy = JSON.parse(JSON.stringify(value)) as unknown;
  const changes = 1 + Math.floor(rnd() * 3);
  let root: unknown = copy;
  for (let i = 0; i < changes; i++) {
    const paths = allPaths(root);
    const path = paths[Math.floor(rnd() * paths.length)];
    if (!path.length) {
      root = randomValue(rnd);
      continue;
    }
    const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], root); // eslint-disable-line @typescript-eslint/no-explicit-any
    const key = path[path.length - 1];
    const action = rnd();
    if (action < 0.6) parent[key] = randomValue(rnd);
    else if (action < 0.8 && !Array.isArray(parent)) delete parent[key];
    else if (!Array.isArray(parent)) parent[`unknown_${Math.floor(rnd() * 100)}`] = randomValue(rnd);
    else parent.push(randomValue(rnd));
  }
  return root;
}

function allPaths(value: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((item, i) => allPaths(item, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const key of Object.keys(value)) allPaths((value as Record<string, unknown>)[key], [...prefix, key], out);
  return out;
}

/** JSON nested `depth` levels deep, as text (never built as an object: that is the point). */
export function deeplyNested(depth: number, inner = '1'): string {
  return '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
}
