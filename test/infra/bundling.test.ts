import { Stack } from 'aws-cdk-lib';
import { esbuildOptions, TRACE_AWS_CALLS_CONSTANT, WAYMARK_BUNDLING, waymarkBundling } from '../../lib/constructs/bundling';
import { FunctionRole } from '../../lib/constructs/function-roles';
import { WaymarkFunction } from '../../lib/constructs/waymark-function';
import { testApp, waymarkStacks } from './waymark-app';

// Whether the bundles then hold the tracer is checked by bundling them: test/unit/architecture/bundles.test.ts.
const tracedIn = (bundling: { define?: Record<string, string> }) => bundling.define?.[TRACE_AWS_CALLS_CONSTANT];

describe('bundling: the X-Ray SDK is a build-time choice', () => {
  it('defines the tracing constant false by default, so esbuild leaves the tracer out', () => {
    expect(tracedIn(waymarkBundling())).toBe('false');
    expect(tracedIn(WAYMARK_BUNDLING)).toBe('false');
    // What the bench and the bundle tests build with: the same constant.
    expect(esbuildOptions().define).toEqual({ [TRACE_AWS_CALLS_CONSTANT]: 'false' });
  });

  it('defines it true when a stage traces AWS calls', () => {
    expect(tracedIn(waymarkBundling({ traceAwsCalls: true }))).toBe('true');
    const options = esbuildOptions(waymarkBundling({ traceAwsCalls: true }));
    expect(options.define).toEqual({ [TRACE_AWS_CALLS_CONSTANT]: 'true' });
  });

  it('bundles no function of the app stack with the tracer unless the stage asks for it', () => {
    const defaults = waymarkStacks(testApp()).application;
    const traced = waymarkStacks(testApp(), { traceAwsCalls: true }).application;
    const constants = (functions: Record<string, WaymarkFunction>) =>
      new Set(Object.values(functions).map((f) => tracedIn(f.bundling)));
    expect(constants(defaults.functions)).toEqual(new Set(['false']));
    expect(constants(traced.functions)).toEqual(new Set(['true']));
  });

  it("takes a function's own setting over its scope's", () => {
    const stack = new Stack(testApp(), 'Scope');
    WaymarkFunction.traceAwsCallsBelow(stack, true);
    const role = new FunctionRole(stack, 'Role', 'test');
    const inherited = new WaymarkFunction(stack, 'Inherited', { handler: 'route-event', description: 'test', role });
    const own = new WaymarkFunction(stack, 'Own', {
      handler: 'route-event',
      description: 'test',
      role,
      traceAwsCalls: false,
    });
    expect([tracedIn(inherited.bundling), tracedIn(own.bundling)]).toEqual(['true', 'false']);
  });
});
