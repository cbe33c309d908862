import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AslDefinition } from '../../../lambdas/core/journey/asl';
import { aslProblems } from '../../../lambdas/core/journey/asl-check';
import { compileJourney } from '../../../lambdas/core/journey/compile';
import { validateJourney } from '../../../lambdas/core/journey/validate';
import { audienceScanDefinition } from '../../../lambdas/core/segments/scan-asl';

const dir = join(__dirname, '../../../statemachines');

const machine = (States: AslDefinition['States']): AslDefinition => ({ Comment: '', StartAt: 'A', TimeoutSeconds: 60, States });

describe('aslProblems', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.json')))('finds nothing in the compiled playbook %s', (file) => {
    const result = validateJourney(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    if (!result.ok) throw new Error(`${file} does not validate`);
    expect(aslProblems(compileJourney(result.journey))).toEqual([]);
  });

  it('finds nothing in the audience scan', () => {
    expect(aslProblems(audienceScanDefinition())).toEqual([]);
  });

  it('reports a transition to a missing state, an unreachable state and a state with neither Next nor End', () => {
    const problems = aslProblems(machine({ A: { Type: 'Pass', Next: 'B' }, C: { Type: 'Pass' }, D: { Type: 'Choice', Choices: [], Default: 'A' } }));
    expect(problems).toEqual(
      expect.arrayContaining([
        '(machine) > A: goes to "B", not a state of this scope',
        '(machine) > C: needs exactly one of Next or End',
        '(machine) > C: not reachable from A',
        '(machine) > D: not reachable from A',
      ]),
    );
  });

  it('reports a transition out of a Parallel branch, a name used twice, and a Distributed Map inside an inline Map', () => {
    const inline = { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'M2', States: { M2: { Type: 'Map', ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'X', States: { X: { Type: 'Succeed' } } }, End: true } } };
    const problems = aslProblems(
      machine({
        A: { Type: 'Parallel', Branches: [{ StartAt: 'B', States: { B: { Type: 'Pass', Next: 'Z' } } }], Next: 'M' },
        M: { Type: 'Map', ItemProcessor: inline, Next: 'B' },
        B: { Type: 'Succeed' },
        Z: { Type: 'Succeed' },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        '(machine) > A [branch 0] > B: goes to "Z", not a state of this scope',
        expect.stringMatching(/> B: the state name is also used at/),
        expect.stringMatching(/M2: a Distributed Map inside an inline Map/),
      ]),
    );
  });

  it('reports a placeholder the deployment does not fill', () => {
    expect(aslProblems(machine({ A: { Type: 'Task', Resource: '${NoSuchFunctionArn}', End: true } }))).toEqual(['unknown placeholder ${NoSuchFunctionArn}']);
  });
});
