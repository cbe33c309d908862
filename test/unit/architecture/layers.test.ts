import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|require\(|import\(|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]);
}

const rel = (file: string) => relative(ROOT, file);

describe('layering (shared/STYLE.md): dependencies point one way', () => {
  const core = sources(join(ROOT, 'lambdas', 'core'));
  const lambdas = sources(join(ROOT, 'lambdas'));

  it('finds the source files it checks', () => {
    expect(core.length).toBeGreaterThan(30);
    expect(lambdas.length).toBeGreaterThan(core.length);
  });

  it('keeps lambdas/core free of AWS SDK, middy, Powertools, CDK and adapters', () => {
    const forbidden = /^(@aws-sdk\/|@middy\/|@aws-lambda-powertools\/|aws-cdk-lib|constructs$|@smithy\/)|\/adapters\/|\/app\/|\/local\/|\/handlers\/|\/shared\/(env|http|powertools)/;
    const offending = core.flatMap((file) => imports(file).filter((i) => forbidden.test(i)).map((i) => `${rel(file)} imports ${i}`));
    expect(offending).toEqual([]);
  });

  it('keeps lambdas/core from reading the environment', () => {
    const offending = core.filter((file) => /process\.env/.test(readFileSync(file, 'utf8'))).map(rel);
    expect(offending).toEqual([]);
  });

  it('never imports lib/ (the CDK app) from lambdas/', () => {
    const offending = lambdas.flatMap((file) => imports(file).filter((i) => /(^|\/)lib\//.test(i) && i.startsWith('.')).map((i) => `${rel(file)} imports ${i}`));
    expect(offending).toEqual([]);
  });
});
