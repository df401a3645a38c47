/**
 * Summarize a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time, and by file.
 * Run: npx tsx bench/profile.ts <file.cpuprofile | dir> [top=25]
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [input = ".", topText = "25"] = process.argv.slice(2);
const file = statSync(input).isDirectory()
  ? readdirSync(input)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => join(input, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]
  : input;
if (!file) throw new Error(`no .cpuprofile in ${input}`);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (const [i, id] of profile.samples.entries())
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const cwd = process.cwd();
const where = (url: string): string =>
  url.startsWith("file://") ? relative(cwd, new URL(url).pathname) : url || "(native)";
const fnKey = (n: ProfileNode) =>
  `${n.callFrame.functionName || "(anonymous)"}  ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const sum = (key: (n: ProfileNode) => string) => {
  const out = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (node) out.set(key(node), (out.get(key(node)) ?? 0) + us);
  }
  return [...out].sort((a, b) => b[1] - a[1]);
};
const top = Number(topText);
const show = (rows: Array<[string, number]>) =>
  rows
    .slice(0, top)
    .map(
      ([k, us]) =>
        `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`,
    )
    .join("\n");
console.log(
  `${file}: ${(total / 1e6).toFixed(1)} s sampled\n\nby function (self time):\n${show(sum(fnKey))}`,
);
console.log(`\nby file:\n${show(sum((n) => where(n.callFrame.url).replace(/:\d+$/, "")))}`);
