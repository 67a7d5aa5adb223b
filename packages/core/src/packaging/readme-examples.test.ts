import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Every TypeScript block in README.md and the public packages' READMEs type-checks under
// `strict`, against the built packages (`npm run build` first), as a user would write it. A block
// preceded by `<!-- no-check -->` is a deliberate fragment and is skipped.
const repo = fileURLToPath(new URL('../../../..', import.meta.url));
const READMES = ['README.md', ...['core', 'http', 'log', 'prometheus', 'redis', 'testing', 'bullmq'].map((p) => `packages/${p}/README.md`)];
// Inside the repo, so `@weft/*`, zod, pino and prom-client resolve from its node_modules.
const outDir = join(repo, 'node_modules', '.cache', 'weft-readme-examples');

interface Block {
  readonly readme: string;
  readonly line: number;
  readonly file: string;
}

function extract(): Block[] {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const blocks: Block[] = [];
  for (const readme of READMES) {
    const lines = readFileSync(join(repo, readme), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
      const start = i + 1;
      let end = start;
      while (end < lines.length && !lines[end]!.startsWith('```')) end++;
      const skipped = [lines[i - 1], lines[i - 2]].some((l) => l?.trim().startsWith('<!-- no-check'));
      if (!skipped) {
        const file = join(outDir, `${readme.replace(/[/.]/g, '_')}_${start + 1}.ts`);
        // Each block is its own module, so top-level await and same-named declarations work.
        writeFileSync(file, `${lines.slice(start, end).join('\n')}\nexport {};\n`);
        blocks.push({ readme, line: start + 1, file });
      }
      i = end;
    }
  }
  return blocks;
}

describe('README code', () => {
  it('type-checks every TypeScript block under strict', () => {
    const blocks = extract();
    expect(blocks.length).toBeGreaterThan(5);
    writeFileSync(join(outDir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    const program = ts.createProgram(
      blocks.map((b) => b.file),
      {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        types: ['node'],
        typeRoots: [join(repo, 'node_modules', '@types')],
        skipLibCheck: true,
      },
    );
    const byFile = new Map(blocks.map((b) => [b.file, b]));
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      const block = d.file === undefined ? undefined : byFile.get(d.file.fileName);
      if (block === undefined || d.file === undefined || d.start === undefined) return message;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      return `${block.readme}:${block.line + line}: ${message}`;
    });
    expect(problems).toEqual([]);
  }, 120_000);
});
