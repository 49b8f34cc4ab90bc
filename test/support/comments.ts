// The comments of the repository's own files and the repository paths they name, so that a comment pointing a
// reader at a file cannot outlive the file.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from './isolated-env';

export interface Comment {
  file: string;
  line: number;
  text: string;
}

/** The comments of a TypeScript or JavaScript source, found by the compiler's scanner (never inside strings). */
function scriptComments(file: string, source: string): Comment[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const seen = new Set<number>();
  const comments: Comment[] = [];
  const visit = (node: ts.Node): void => {
    // A comment on the line of the token before it is that token's trailing comment, not this one's leading.
    const ranges = [
      ...(ts.getLeadingCommentRanges(source, node.pos) ?? []),
      ...(ts.getTrailingCommentRanges(source, node.end) ?? []),
    ];
    for (const range of ranges) {
      if (seen.has(range.pos)) continue;
      seen.add(range.pos);
      const line = sf.getLineAndCharacterOfPosition(range.pos).line + 1;
      comments.push({ file, line, text: source.slice(range.pos, range.end) });
    }
    // Tokens too (getChildren, not forEachChild): a comment before a `)` or `}` belongs to no other node.
    for (const child of node.getChildren(sf)) visit(child);
  };
  visit(sf);
  return comments.sort((a, b) => a.line - b.line);
}

/**
 * `#` comments (shell, Terraform, YAML, Dockerfile): at the start of a line or after a blank, outside quotes
 * (so not `$#` or `${#a[@]}`), and not in here-documents, whose lines are data whatever they start with.
 */
function hashComments(file: string, source: string): Comment[] {
  const comments: Comment[] = [];
  let heredocEnd: string | undefined;
  source.split('\n').forEach((text, i) => {
    if (heredocEnd !== undefined) {
      if (text.trim() === heredocEnd) heredocEnd = undefined;
      return;
    }
    if (i === 0 && text.startsWith('#!')) return;
    let quote: string | undefined;
    for (let c = 0; c < text.length; c++) {
      const ch = text[c]!;
      if (quote !== undefined) {
        if (ch === '\\' && quote === '"') c++;
        else if (ch === quote) quote = undefined;
      } else if (ch === '\\') {
        c++;
      } else if (ch === "'" || ch === '"') {
        quote = ch;
      } else if (ch === '#' && (c === 0 || /\s/.test(text[c - 1]!))) {
        comments.push({ file, line: i + 1, text: text.slice(c) });
        break;
      }
    }
    const heredoc = /<<-?\s*(['"]?)(\w+)\1/.exec(text);
    if (heredoc) heredocEnd = heredoc[2];
  });
  return comments;
}

/** How `file` writes its comments, or undefined for files without comments to check (data, Markdown). */
function commentStyle(file: string, source: string): 'script' | 'hash' | undefined {
  const name = path.posix.basename(file);
  if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(name)) return 'script';
  if (/\.(sh|tf|ya?ml)$|^Dockerfile$|^\.env\.example$/.test(name)) return 'hash';
  if (!name.includes('.')) {
    const shebang = /^#!.*\b(node|bash|sh)\b/.exec(source.slice(0, 80));
    if (shebang) return shebang[1] === 'node' ? 'script' : 'hash';
  }
  return undefined;
}

export function commentsOf(file: string, source: string): Comment[] {
  const style = commentStyle(file, source);
  if (style === 'script') return scriptComments(file, source);
  if (style === 'hash') return hashComments(file, source);
  return [];
}

// A file name with one of the repository's own extensions, with or without folders; or folders alone (`kafka/`).
// Not preceded by what makes it part of something else: a URL (`://`), an npm scope (`@temporalio/`), a glob
// (`*/`, `{a,b}.ts`), a variable (`$DIR/`), a template (`<name>-latest.json`), a longer name or path.
const NOT_BEFORE = String.raw`(?<![\w@./:*{}$<>~-])`;
const EXTENSIONS = 'ts|mts|cts|js|mjs|cjs|sh|md|tf|ya?ml|json|sql|pb|gz';
const FILE = String.raw`((?:\.{1,2}/)*(?:\w[\w.-]*/)*\w[\w.-]*\.(?:${EXTENSIONS}))(?![\w/*{}-])`;
const FOLDER = String.raw`((?:\w[\w.-]*/)+)(?![\w*{}-])`;
const PATH_TOKEN = new RegExp(`${NOT_BEFORE}${FILE}|${NOT_BEFORE}${FOLDER}`, 'g');
const URL = /\b[a-z][a-z\d+.-]*:\/\/\S*/gi;
/** Words that look like file names and are not. */
const NOT_PATHS = new Set(['Node.js']);

/** The paths a comment names, in order. */
export function pathsNamed(comment: string): string[] {
  const text = comment.replace(URL, ' ');
  return [...text.matchAll(PATH_TOKEN)].map((m) => (m[1] ?? m[2])!).filter((p) => !NOT_PATHS.has(p));
}

/** The repository's files, what git ignores (outputs such as `dist/`), and the check of a named path. */
export class RepositoryTree {
  readonly files: string[];
  private readonly entries = new Set<string>();
  private readonly topLevel = new Set<string>();
  private readonly ignored: string[];

  constructor(readonly root = REPO_ROOT) {
    // The folders .gitignore names (node_modules/, dist/, .stack/, ...) hold outputs, not the project's files.
    const gitignore = fs.readFileSync(path.join(root, '.gitignore'), 'utf8');
    this.ignored = gitignore
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.endsWith('/') && !/[*!#?[]/.test(l))
      .map((l) => l.replace(/^\//, ''));
    this.files = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
        const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
        if (entry.isDirectory()) {
          if (entry.name === '.git' || this.isIgnored(`${rel}/`)) continue;
          this.entries.add(`${rel}/`);
          walk(rel);
        } else if (entry.isFile()) {
          this.entries.add(rel);
          this.files.push(rel);
        }
        if (dir === '') this.topLevel.add(entry.name);
      }
    };
    walk('');
    this.files.sort();
  }

  /** As git reads a folder pattern: `dist/` at any depth, `terraform/.terraform/` from the root. */
  private isIgnored(rel: string): boolean {
    return this.ignored.some((d) =>
      d.indexOf('/') === d.length - 1 ? `/${rel}`.includes(`/${d}`) : rel.startsWith(d),
    );
  }

  /**
   * Whether `named`, in a comment of `file`, names something that is not there. A path with a folder is read
   * from the repository root, or from the file's folder when it starts with ./ or ../ (unless it leaves the
   * repository, as ../shared/docs/SPEC.md does: not this repository's to check). A bare file name must be in
   * the file's own folder or at the root, so that a reader knows where to look. Folders alone are checked when
   * they start at a top-level folder (`kafka/`); outputs git ignores (`dist/`) never are.
   */
  isMissing(file: string, named: string): boolean {
    let rel = named;
    if (named.startsWith('./') || named.startsWith('../')) {
      rel = path.posix.normalize(path.posix.join(path.posix.dirname(file), named));
      const beyond = /^(?:\.\.\/)+([^/]+)/.exec(named)?.[1];
      const outside = rel.startsWith('../') || (beyond !== undefined && !this.topLevel.has(beyond));
      if (outside && !this.entries.has(rel)) return false;
    }
    if (this.isIgnored(rel)) return false;
    if (rel.endsWith('/')) return this.topLevel.has(rel.split('/')[0]!) && !this.entries.has(rel);
    if (rel.includes('/')) return !this.entries.has(rel);
    const folder = path.posix.dirname(file);
    return !this.entries.has(rel) && !this.entries.has(folder === '.' ? rel : `${folder}/${rel}`);
  }
}

export interface StalePath {
  file: string;
  line: number;
  named: string;
}

/** Every path a comment of `file` names that does not exist in `tree`. */
export function stalePaths(tree: RepositoryTree, file: string, source: string): StalePath[] {
  return commentsOf(file, source).flatMap((c) =>
    pathsNamed(c.text)
      .filter((named) => tree.isMissing(file, named))
      .map((named) => ({ file, line: c.line, named })),
  );
}

/** Issue-tracker numbers: they mean nothing to a reader of the code. */
export function issueNumbers(file: string, source: string): { file: string; line: number; text: string }[] {
  const found: { file: string; line: number; text: string }[] = [];
  // Anywhere in the code (help texts and test names too)...
  source.split('\n').forEach((text, i) => {
    const m = /\bissues?\s+#?\d+/i.exec(text);
    if (m) found.push({ file, line: i + 1, text: m[0] });
  });
  // ...and `#25` in comments (in code it is a CSS colour or a private field).
  for (const c of commentsOf(file, source)) {
    const m = /(?:^|[\s(,;[])(#\d+)\b/.exec(c.text.replace(/^#+/, ''));
    if (m) found.push({ file, line: c.line, text: m[1]! });
  }
  return found;
}
