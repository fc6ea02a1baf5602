import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The README and docs/ are the documentation a user who clones the repository has: every link
 * must stay inside the repository and lead somewhere, down to the heading it names.
 */
const root = join(__dirname, '..', '..');
const documents = [
  'README.md',
  'scripts/infra/README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{Letter}\p{Number}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let inCode = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inCode = !inCode;
    const heading = !inCode && /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) anchors.add(headingAnchor(heading[1]));
  }
  return anchors;
}

/** Every `[text](target)` outside code blocks and code spans. */
function linksOf(markdown: string): string[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]);
}

function brokenLinks(document: string): string[] {
  const markdown = readFileSync(join(root, document), 'utf8');
  const broken: string[] = [];
  for (const link of linksOf(markdown)) {
    if (/^(https?|mailto):/.test(link)) continue;
    const [path, anchor] = link.split('#');
    const target = path ? resolve(dirname(join(root, document)), path) : join(root, document);
    if (relative(root, target).startsWith('..')) {
      broken.push(`${link}: leaves the repository`);
      continue;
    }
    if (!existsSync(target)) {
      broken.push(`${link}: no such file`);
      continue;
    }
    if (anchor && target.endsWith('.md') && !anchorsOf(readFileSync(target, 'utf8')).has(anchor))
      broken.push(`${link}: no heading #${anchor}`);
  }
  return broken;
}

describe('documentation links', () => {
  it.each(documents)(
    '%s links only inside the repository, to files and headings that exist',
    (document) => {
      expect(brokenLinks(document)).toEqual([]);
    },
  );

  it('computes the anchors GitHub gives headings', () => {
    expect(headingAnchor('The `parley` CLI')).toBe('the-parley-cli');
    expect(headingAnchor('Runtime, dependencies and the servers the tests use')).toBe(
      'runtime-dependencies-and-the-servers-the-tests-use',
    );
  });

  it('keeps the README a front page', () => {
    const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThanOrEqual(150);
  });
});
