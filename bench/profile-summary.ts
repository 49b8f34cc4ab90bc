// `npx tsx bench/profile-summary.ts FILE.cpuprofile... [--top N] [--skip SECONDS]`: where a V8 CPU profile's time went, as self
// time per package (a node_modules package, a project folder, node's internals, GC) and per function, so a
// profile written by `npm run bench:stream -- --cpu-prof DIR` can be read without a browser. See bench/README.md.
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package, a project folder, node's own code, or V8's pseudo-frames. */
export function ownerOf(url: string, functionName: string): string {
  if (url === '') return `(${functionName.replace(/[()]/g, '') || 'native'})`;
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1]!;
  if (url.startsWith('node:')) return 'node';
  // The workflow bundle holds the project's workflow code and the SDK's workflow runtime.
  if (url.includes('kiosk-bench-bundle')) return 'workflow bundle';
  const project = /\/(?:dist\/bench-\d+\/)?([^/]+)\/[^/]+\.[jt]s$/.exec(url.replace(/^file:\/\//, ''));
  return project ? `project ${project[1]}/` : url;
}

function summarise(file: string, top: number, skipS: number): void {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // Samples in the first `skipS` seconds (start-up: loading modules, compiling the workflow bundle) left out.
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at - profile.startTime >= skipS * 1e6) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Node's own code and native frames charged to the nearest package or project code that called them.
  const chargedTo = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { url, functionName } = byId.get(at)!.callFrame;
      const owner = ownerOf(url, functionName);
      if (owner !== 'node' && !owner.startsWith('(')) return owner;
    }
    return ownerOf(byId.get(id)!.callFrame.url, byId.get(id)!.callFrame.functionName);
  };
  const owners = new Map<string, number>();
  const charged = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const owner = ownerOf(url, functionName);
    if (owner === '(idle)') continue;
    busy += us;
    owners.set(owner, (owners.get(owner) ?? 0) + us);
    const payer = chargedTo(id);
    charged.set(payer, (charged.get(payer) ?? 0) + us);
    const name = `${functionName || '(anonymous)'} ${path.basename(url)}:${lineNumber + 1} [${owner}]`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const wall = (profile.endTime - profile.startTime) / 1e6 - skipS;
  console.log(`${path.basename(file)}: busy ${(busy / 1e6).toFixed(2)} s of ${wall.toFixed(1)} s`);
  const list = (title: string, m: Map<string, number>) => {
    console.log(`  ${title}`);
    for (const [name, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`    ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1e6).toFixed(2)} s  ${name}`);
    }
  };
  list('by package', owners);
  list("by package, node's code and native frames charged to their caller", charged);
  list('by function (self time)', functions);
}

function main(args: string[]): void {
  const option = (name: string, fallback: number): number => {
    const i = args.indexOf(name);
    if (i < 0) return fallback;
    const value = Number(args.splice(i, 2)[1]);
    if (!Number.isFinite(value)) throw new Error(`${name} takes a number`);
    return value;
  };
  const top = option('--top', 25);
  const skipS = option('--skip', 0);
  if (args.length === 0) {
    console.error('Usage: npx tsx bench/profile-summary.ts FILE.cpuprofile... [--top N] [--skip SECONDS]');
    process.exitCode = 2;
    return;
  }
  for (const file of args) summarise(file, top, skipS);
}

if (require.main === module) main(process.argv.slice(2));
