/**
 * Redis glob patterns (KEYS/SCAN MATCH, util.c stringmatchlen) matched on raw key bytes:
 * `*` any run, `?` one byte, `[abc]` `[^abc]` `[a-z]` (a reversed range `[z-a]` works too), `\x`
 * escapes x. An unclosed `[` takes the rest of the pattern as its set, and a trailing `\` matches a
 * backslash — both as Redis does, so a pattern behaves here as it does in `SCAN MATCH`.
 */

type Token =
  | { readonly kind: "star" }
  | { readonly kind: "any" }
  | { readonly kind: "byte"; readonly byte: number }
  | {
      readonly kind: "set";
      readonly negate: boolean;
      readonly bytes: ReadonlySet<number>;
      readonly ranges: readonly (readonly [number, number])[];
    };

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const BACKSLASH = 0x5c;
const DASH = 0x2d;

function tokenize(pattern: Buffer): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === STAR) {
      // Consecutive stars are one star.
      if (tokens.at(-1)?.kind !== "star") tokens.push({ kind: "star" });
      i++;
    } else if (c === QUESTION) {
      tokens.push({ kind: "any" });
      i++;
    } else if (c === BACKSLASH && i + 1 < pattern.length) {
      tokens.push({ kind: "byte", byte: pattern[i + 1]! });
      i += 2;
    } else if (c === OPEN) {
      i++;
      const negate = pattern[i] === CARET;
      if (negate) i++;
      const bytes = new Set<number>();
      const ranges: [number, number][] = [];
      while (i < pattern.length && pattern[i] !== CLOSE) {
        const p = pattern[i]!;
        if (p === BACKSLASH && i + 1 < pattern.length) {
          bytes.add(pattern[i + 1]!);
          i += 2;
        } else if (i + 2 < pattern.length && pattern[i + 1] === DASH) {
          const a = p;
          const b = pattern[i + 2]!;
          ranges.push(a <= b ? [a, b] : [b, a]);
          i += 3;
        } else {
          bytes.add(p);
          i++;
        }
      }
      i++; // the closing bracket (or past the end for an unclosed set)
      tokens.push({ kind: "set", negate, bytes, ranges });
    } else {
      tokens.push({ kind: "byte", byte: c });
      i++;
    }
  }
  return tokens;
}

function matchOne(token: Token, byte: number): boolean {
  switch (token.kind) {
    case "any":
      return true;
    case "byte":
      return token.byte === byte;
    case "set": {
      const hit = token.bytes.has(byte) || token.ranges.some(([a, b]) => byte >= a && byte <= b);
      return hit !== token.negate;
    }
    case "star":
      return false;
  }
}

/** Compiles once; the returned function tests a key in O(len(key) × len(pattern)) at worst. */
export function compileGlob(pattern: string | Buffer): (key: Buffer) => boolean {
  const tokens = tokenize(Buffer.isBuffer(pattern) ? pattern : Buffer.from(pattern, "utf8"));
  return (key) => {
    // Every token but `*` consumes exactly one byte, so backtracking to the last star is enough.
    let t = 0;
    let k = 0;
    let starT = -1;
    let starK = 0;
    while (k < key.length) {
      const token = tokens[t];
      if (token?.kind === "star") {
        starT = t++;
        starK = k;
      } else if (token && matchOne(token, key[k]!)) {
        t++;
        k++;
      } else if (starT >= 0) {
        t = starT + 1;
        k = ++starK;
      } else {
        return false;
      }
    }
    while (tokens[t]?.kind === "star") t++;
    return t === tokens.length;
  };
}
