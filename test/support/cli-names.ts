// Finds the `kiosk …` commands a text names and checks each against the commander program: every command word
// must be a command, every --option one the command (or a parent) takes.
import type { Command } from 'commander';

export const COMMAND = 'kiosk';

/** The command lines a document names: in code spans and fenced blocks of Markdown, YAML or help text. */
export function namedCommands(text: string): string[] {
  const found: string[] = [];
  // A backtick right before the name (inline code, also escaped in a TypeScript template literal).
  for (const m of text.matchAll(/`(?:npx |run_once )?kiosk ([^`\\\n|;]*)/g)) found.push(m[1]!);
  // Lines of fenced code blocks, and example lines of a help text (indented, starting with the name).
  const fenced = [...text.matchAll(/^```[a-z]*\n([\s\S]*?)^```/gm)].flatMap((m) => m[1]!.split('\n'));
  const examples = text.split('\n').filter((l) => /^\s+kiosk /.test(l));
  for (const line of [...fenced, ...examples]) {
    for (const m of line.replace(/#.*$/, '').matchAll(/(?:^|[\s("])(?:npx |run_once )?kiosk ([^|;)`]*)/g))
      found.push(m[1]!);
  }
  return found.map((c) => c.trim()).filter((c) => /^[a-z-]/.test(c));
}

/** Why a named command line does not exist in the program, or undefined when it does. */
export function checkCommand(program: Command, line: string): string | undefined {
  const tokens = line
    .replace(/[[\]]/g, ' ')
    .split(/\s+/)
    .filter((t) => t !== '');
  let cmd = program;
  let leaf = program.commands.length === 0;
  for (const token of tokens) {
    if (token.startsWith('--')) {
      const flag = token.split('=')[0]!;
      if (flag === '--help' || (flag === '--version' && cmd === program)) continue;
      let known = false;
      for (let c: Command | null = cmd; c !== null && !known; c = c.parent)
        known = c.options.some((o) => o.long === flag);
      if (!known) return `'${COMMAND} ${line}': ${cmd.name()} takes no option ${flag}`;
      continue;
    }
    if (leaf) continue; // an argument or an option's value
    if (!/^[a-z][a-z-]*$/.test(token)) return `'${COMMAND} ${line}': '${token}' is not a command`;
    const sub = cmd.commands.find((c) => c.name() === token || c.aliases().includes(token));
    if (sub === undefined) return `'${COMMAND} ${line}': ${cmd.name()} has no command '${token}'`;
    cmd = sub;
    leaf = cmd.commands.length === 0;
  }
  return undefined;
}
