import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '.';

/**
 * docs/configuration.md against the configuration schema (config/index.ts) and `.env.example`, so
 * the three cannot drift: a variable added to the schema fails here until it is documented, and a
 * documented default that is not the schema's fails too.
 */

const ROOT = join(__dirname, '..');
const base = { DATABASE_URL: 'mysql://sagapay:secret@127.0.0.1:3306/sagapay' };

/** The keys of the zod object `environmentSchema`, read from the source that declares it. */
function schemaVariables(): string[] {
  const source = readFileSync(join(ROOT, 'config', 'index.ts'), 'utf8');
  const start = source.indexOf('const environmentSchema = z');
  const end = source.indexOf('.superRefine(', start);
  if (start < 0 || end < 0) throw new Error('config/index.ts: environmentSchema not found');
  return [...source.slice(start, end).matchAll(/^ {4}([A-Z][A-Z0-9_]*):/gm)].map((match) => match[1] ?? '');
}

interface DocumentedVariable {
  names: string[];
  defaultCell: string;
  rangeCell: string;
}

/** The rows of the table under `heading` in docs/configuration.md; a row may name several variables. */
function documentedTable(heading: string): DocumentedVariable[] {
  const document = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
  const start = document.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/configuration.md: no section "${heading}"`);
  const next = document.indexOf('\n## ', start + 1);
  const section = document.slice(start, next < 0 ? undefined : next);
  return section
    .split('\n')
    .filter((line) => /^\| `[A-Z]/.test(line))
    .map((line) => {
      const cells = line.split(' | ').map((cell) => cell.replace(/^\| |\s\|$/g, '').trim());
      const names = [...(cells[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1] ?? '');
      return { names, defaultCell: cells[1] ?? '', rangeCell: cells[2] ?? '' };
    });
}

/** Every `.ts`/`.js` file under `directory`, node_modules left out. */
function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name.startsWith('.') ? [] : sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) ? [path] : [];
  });
}

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const schema = schemaVariables();
const documented = documentedTable('The variables of the schema');
const outside = documentedTable('Read by the scripts and the tests, outside the schema');

describe('docs/configuration.md', () => {
  it('when the schema is read from config/index.ts, then it has the variables loadConfig knows', () => {
    expect(schema.length).toBeGreaterThan(50);
    expect(schema).toContain('DATABASE_URL');
    // Each name found in the source is a real key: a wrong value of it is refused by name.
    expect(problemsOf({ ...base, FEE_BPS: 'many' }).join('\n')).toMatch(/^FEE_BPS /m);
  });

  it('when compared with the schema, then every schema variable has one row and no row names another', () => {
    const names = documented.flatMap((row) => row.names.slice(0, 1));
    expect(documented.every((row) => row.names.length >= 1)).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual([...schema].sort());
  });

  it('when a variable is set to its documented default, then the configuration is the one without it', () => {
    const withDefaults = documented.filter((row) => /^`[^`]+`$/.test(row.defaultCell));
    expect(withDefaults.length).toBeGreaterThan(50);
    const untouched = loadConfig(base);
    for (const row of withDefaults) {
      const name = row.names[0] ?? '';
      const value = row.defaultCell.slice(1, -1);
      expect({ name, config: loadConfig({ ...base, [name]: value }) }).toEqual({ name, config: untouched });
    }
  });

  it('when a variable is set just outside its documented range, then the configuration refuses it by name', () => {
    const ranged = documented.filter((row) => /^\d+–\d+(,|$)/.test(row.rangeCell));
    expect(ranged.length).toBeGreaterThan(30);
    for (const row of ranged) {
      const name = row.names[0] ?? '';
      const [min, max] = (/^(\d+)–(\d+)/.exec(row.rangeCell) ?? []).slice(1).map(Number);
      const outOfRange = [String((max ?? 0) + 1), ...(min && min > 0 ? [String(min - 1)] : [])];
      for (const value of outOfRange) {
        expect({ name, value, refused: problemsOf({ ...base, [name]: value }).some((problem) => problem.startsWith(`${name} `)) }).toEqual({ name, value, refused: true });
      }
    }
  });

  it('when the tooling variables are listed, then none is in the schema and each is read somewhere', () => {
    const names = outside.flatMap((row) => row.names);
    expect(names.length).toBeGreaterThan(5);
    const sources = ['scripts', 'test', 'workers', 'bench', 'chaos', 'fuzz']
      .flatMap((directory) => sourceFiles(join(ROOT, directory)))
      .map((path) => readFileSync(path, 'utf8'))
      .join('\n');
    for (const name of names) {
      expect({ name, inSchema: schema.includes(name), read: sources.includes(name) }).toEqual({ name, inSchema: false, read: true });
    }
  });

  it('when .env.example is read, then it names every schema variable and only documented ones', () => {
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    const named = [...new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] ?? ''))];
    const known = new Set([...schema, ...outside.flatMap((row) => row.names)]);
    expect(named.filter((name) => !known.has(name))).toEqual([]);
    expect(schema.filter((name) => !named.includes(name))).toEqual([]);
  });
});
