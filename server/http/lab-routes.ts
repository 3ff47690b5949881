/**
 * The Conversion Lab's routes, registered inside the `/admin/v1` scope, so the admin token check
 * there applies. A scenario that is not valid is refused at its path before anything runs.
 *
 * - `POST /lab/runs` (SPEC LB-1, LB-2): one scenario file under each asked strategy (default all
 *   five), each run by the simulator in a process of its own, answered when every run has ended.
 *   A client that goes away stops the runs not ended yet.
 * - `POST /lab/jobs`, `GET /lab/jobs/{id}`, `DELETE /lab/jobs/{id}` (SPEC LB-11..LB-14): the same
 *   runs as a job answered at once (202) and polled for progress, cancellable.
 *
 * Bodies, parameters and answers are the zod schemas of `shared/protocol/lab.ts` and
 * `lab-jobs.ts` (`LabRunRequestSchema`, `LabJobParamsSchema`, `LabRunResponseSchema`,
 * `LabJobSchema`), which the OpenAPI document is generated from (the declarations below, OA-1).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { STRATEGIES, type Strategy } from '../../shared/identity/scope-config.ts';
import { apiError } from '../../shared/protocol/errors.ts';
import { LabJobParamsSchema, LabJobSchema, type LabJob } from '../../shared/protocol/lab-jobs.ts';
import { LabRunRequestSchema, LabRunResponseSchema, type LabRunResponse } from '../../shared/protocol/lab.ts';
import { parseWith } from '../../shared/protocol/parse.ts';
import { ScenarioSchema, type Scenario } from '../../shared/protocol/scenario.ts';
import { LabJobs } from '../lab-jobs.ts';
import type { LabRunner } from '../lab.ts';
import type { ConsoleRouteHelpers } from './admin-console-routes.ts';
import { adminRoute } from './admin-params.ts';
import { route, type RouteDeclaration } from './route-table.ts';

export function registerLabRoutes(
  admin: FastifyInstance,
  lab: LabRunner,
  helpers: ConsoleRouteHelpers,
  jobs: LabJobs = new LabJobs(lab),
): void {
  const { parse, fail } = helpers;
  admin.addHook('onClose', (_instance, done) => {
    jobs.close();
    done();
  });

  route(admin, LAB_RUN_ROUTE, async (request, reply): Promise<LabRunResponse | typeof reply> => {
    const body = await runBody(reply, request.body, helpers);
    if (body === null) return reply;
    const gone = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    return { runs: await lab.run(body.scenario, body.strategies, { signal: gone.signal }) };
  });

  route(admin, LAB_JOB_START_ROUTE, async (request, reply): Promise<LabJob | typeof reply> => {
    const body = await runBody(reply, request.body, helpers);
    if (body === null) return reply;
    const started = jobs.start(body.scenario, body.strategies);
    if (!started.ok) return fail(reply, started.error);
    return reply.code(202).send(started.value);
  });

  route(admin, LAB_JOB_ROUTE, async (request, reply): Promise<LabJob | typeof reply> => {
    const params = parse(reply, LabJobParamsSchema, request.params);
    if (params === null) return reply;
    return jobs.get(params.id) ?? fail(reply, noJob(params.id));
  });

  route(admin, LAB_JOB_CANCEL_ROUTE, async (request, reply): Promise<LabJob | typeof reply> => {
    const params = parse(reply, LabJobParamsSchema, request.params);
    if (params === null) return reply;
    return jobs.cancel(params.id) ?? fail(reply, noJob(params.id));
  });
}

const noJob = (id: string) =>
  apiError('NOT_FOUND', `no lab job ${id} (never started, or ended and forgotten)`);

/** The body of a run or a job: the strategies (default all five) and the scenario, parsed at its path. */
async function runBody(
  reply: FastifyReply,
  input: unknown,
  { parse, fail }: ConsoleRouteHelpers,
): Promise<{ scenario: Scenario; strategies: readonly Strategy[] } | null> {
  const body = parse(reply, LabRunRequestSchema, input);
  if (body === null) return null;
  const scenario = parseWith(ScenarioSchema, body.scenario);
  if (!scenario.ok) {
    const { path, message } = scenario.error;
    await fail(reply, {
      ...scenario.error,
      message: `scenario.${message}`,
      path: path === undefined ? 'scenario' : `scenario.${path}`,
    });
    return null;
  }
  return { scenario: scenario.value, strategies: body.strategies ?? STRATEGIES };
}

const LAB_RUN_ROUTE = adminRoute({
  method: 'POST',
  url: '/lab/runs',
  operationId: 'labRun',
  summary:
    'Run a scenario file under each strategy with the simulator, each in a process of its own with its own in-memory server (the Conversion Lab). Touches no workspace.',
  body: LabRunRequestSchema,
  responses: {
    200: {
      description: 'One run per strategy: its report, or why it could not run',
      schema: LabRunResponseSchema,
    },
    400: 'Malformed scenario or strategy list (VALIDATION_ERROR, with the path)',
  },
});

const LAB_JOB_START_ROUTE: RouteDeclaration = {
  ...LAB_RUN_ROUTE,
  url: '/lab/jobs',
  operationId: 'labJobStart',
  summary:
    'Start the runs of POST /admin/v1/lab/runs as a job and answer at once; poll it with GET, stop it with DELETE',
  responses: {
    202: { description: 'The job, every strategy waiting', schema: LabJobSchema },
    400: 'Malformed scenario or strategy list (VALIDATION_ERROR, with the path)',
    429: 'As many jobs are running as allowed at once (RATE_LIMITED)',
  },
};

const UNKNOWN_JOB = 'No such job (never started, or ended and forgotten)';

const LAB_JOB_ROUTE = adminRoute({
  method: 'GET',
  url: '/lab/jobs/:id',
  operationId: 'labJob',
  summary: 'A job: each strategy waiting, running, or ended with its run; done of total',
  params: LabJobParamsSchema,
  responses: {
    200: { description: 'The job', schema: LabJobSchema },
    400: 'Malformed id',
    404: UNKNOWN_JOB,
  },
});

const LAB_JOB_CANCEL_ROUTE: RouteDeclaration = {
  ...LAB_JOB_ROUTE,
  method: 'DELETE',
  operationId: 'labJobCancel',
  summary: 'Cancel a running job (its simulators are stopped); an ended job is answered unchanged',
  responses: {
    200: { description: 'The job, cancelled or ended', schema: LabJobSchema },
    400: 'Malformed id',
    404: UNKNOWN_JOB,
  },
};
