/**
 * The documentation stays inside the repository: every Markdown link in README.md and docs/
 * points at a file or folder of this checkout (and, with a #fragment into a Markdown file, at one
 * of its headings), none names another site or a path outside the checkout (a clone has nothing
 * beside it), and the README stays a first page, not a manual (under 10 KB).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../support/env.ts';

const README_MAX_BYTES = 10 * 1024;

function markdownFiles(): string[] {
  const out = [path.join(REPO_ROOT, 'README.md')];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.md')) out.push(full);
    }
  };
  const docs = path.join(REPO_ROOT, 'docs');
  if (existsSync(docs)) walk(docs);
  return out;
}

/** The text a reader sees as prose: fenced code blocks and inline code spans blanked out. */
export function proseOf(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ' '))
    .replace(/(`+)[^`\n]*?\1/g, (span) => ' '.repeat(span.length));
}

/** Link targets: inline links and images `[t](x)`, reference definitions `[t]: x`, autolinks `<x>`. */
export function linkTargets(markdown: string): string[] {
  const prose = proseOf(markdown);
  const targets: string[] = [];
  for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
  for (const m of prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) targets.push(m[1]!);
  for (const m of prose.matchAll(/<([a-z][a-z0-9+.-]*:[^>\s]*)>/gi)) targets.push(m[1]!);
  return targets;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of proseOf(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const raw = markdown.slice(m.index!, m.index! + m[0].length).replace(/^#{1,6}[ \t]+/, '');
    const base = raw
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** What is wrong with one link of `file`, or null when it resolves inside the repository. */
export function linkProblem(file: string, target: string, root = REPO_ROOT): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return 'leaves the repository (a URL)';
  if (target.startsWith('/')) return 'is an absolute path';
  const [pathPart, fragment] = target.split('#', 2) as [string, string | undefined];
  const resolved = pathPart === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(pathPart));
  const relative = path.relative(root, resolved);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return 'points outside the repository';
  if (!existsSync(resolved)) return 'points at nothing';
  if (fragment !== undefined && statSync(resolved).isFile() && resolved.endsWith('.md')) {
    if (!headingAnchors(readFileSync(resolved, 'utf8')).has(fragment)) return `has no heading #${fragment}`;
  }
  return null;
}

test('every link in README.md and docs/ resolves inside the repository', () => {
  const files = markdownFiles();
  assert.ok(files.length > 5, `found only ${files.length} Markdown files`);
  const problems: string[] = [];
  let links = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const name = path.relative(REPO_ROOT, file);
    for (const target of linkTargets(text)) {
      links++;
      const problem = linkProblem(file, target, REPO_ROOT);
      if (problem) problems.push(`${name}: (${target}) ${problem}`);
    }
    // A bare URL in prose becomes a link on most renderers; a path beside the checkout is absent
    // from a clone, in code or not.
    for (const m of proseOf(text).matchAll(/(?<!\]\(<?)\bhttps?:\/\/[^\s)>]+/g))
      problems.push(`${name}: bare URL ${m[0]}`);
    if (text.includes('../shared')) problems.push(`${name}: names ../shared, which a clone lacks`);
  }
  assert.ok(links > 20, `found only ${links} links`);
  assert.deepEqual(problems, []);
});

test('README.md is a first page, under 10 KB', () => {
  const bytes = statSync(path.join(REPO_ROOT, 'README.md')).size;
  assert.ok(bytes < README_MAX_BYTES, `README.md is ${bytes} bytes`);
});

test('the link checker refuses what it should', () => {
  const file = path.join(REPO_ROOT, 'docs', 'README.md');
  assert.equal(linkProblem(file, 'architecture.md'), null);
  assert.equal(linkProblem(file, '../protocols/link/SPEC.md'), null);
  assert.equal(linkProblem(file, 'configuration.md#central-settings'), null);
  assert.match(linkProblem(file, 'configuration.md#no-such-heading')!, /no heading/);
  assert.match(linkProblem(file, 'https://example.org/')!, /URL/);
  assert.match(linkProblem(file, 'mailto:a@example.org')!, /URL/);
  assert.match(linkProblem(file, '../../shared/DESIGN.md')!, /outside/);
  assert.match(linkProblem(file, 'no-such-page.md')!, /nothing/);
  assert.match(linkProblem(file, '/etc/passwd')!, /absolute/);
  assert.deepEqual(
    linkTargets('a [x](y.md) `[not](code.md)` ![i](c.svg)\n```\n[no](z.md)\n```\n[r]: ref.md\n'),
    ['y.md', 'c.svg', 'ref.md'],
  );
  // A heading followed by a code block: the anchor is the heading's line alone.
  assert.deepEqual([...headingAnchors('## Replay\n\n```sh\nsiem-gateway replay x\n```\n')], ['replay']);
  assert.deepEqual(
    [...headingAnchors('# Sources: what it is\n## A & B (c)\n## A & B (c)\n')],
    ['sources-what-it-is', 'a--b-c', 'a--b-c-1'],
  );
});
