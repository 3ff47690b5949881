/**
 * `POST /admin/v1/lab/runs` (SPEC LB-1, LB-2): one scenario file under each asked strategy (default
 * all five), each run by the simulator in a process of its own. Registered inside the `/admin/v1`
 * scope, so the admin token check there applies. A scenario that is not valid is refused at its
 * path before anything runs.
 */
import type { FastifyInstance } from 'fastify';
import { STRATEGIES } from '../../shared/identity/scope-config.ts';
import { LabRunRequestSchema, LabRunResponseSchema, type LabRunResponse } from '../../shared/protocol/lab.ts';
import { parseWith } from '../../shared/protocol/parse.ts';
import { ScenarioSchema } from '../../shared/protocol/scenario.ts';
import type { LabRunner } from '../lab.ts';
import type { ConsoleRouteHelpers } from './admin-console-routes.ts';
import { route, type RouteDeclaration } from './route-table.ts';

export function registerLabRoutes(
  admin: FastifyInstance,
  lab: LabRunner,
  { parse, fail }: ConsoleRouteHelpers,
): void {
  route(admin, LAB_RUN_ROUTE, async (request, reply): Promise<LabRunResponse | typeof reply> => {
    const body = parse(reply, LabRunRequestSchema, request.body);
    if (body === null) return reply;
    const scenario = parseWith(ScenarioSchema, body.scenario);
    if (!scenario.ok) {
      const { path, message } = scenario.error;
      return fail(reply, {
        ...scenario.error,
        message: `scenario.${message}`,
        path: path === undefined ? 'scenario' : `scenario.${path}`,
      });
    }
    return { runs: await lab.run(scenario.value, body.strategies ?? STRATEGIES) };
  });
}

const LAB_RUN_ROUTE: RouteDeclaration = {
  method: 'POST',
  url: '/lab/runs',
  operationId: 'labRun',
  summary:
    'Run a scenario file under each strategy with the simulator, each in a process of its own with its own in-memory server (the Conversion Lab). Touches no workspace.',
  tags: ['admin'],
  auth: 'admin',
  body: LabRunRequestSchema,
  responses: {
    200: {
      description: 'One run per strategy: its report, or why it could not run',
      schema: LabRunResponseSchema,
    },
    400: 'Malformed scenario or strategy list (VALIDATION_ERROR, with the path)',
  },
};
