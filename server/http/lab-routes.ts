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
 * `LabJobSchema`), which the OpenAPI document is generated from (`labJobPaths`).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { z } from 'zod';
import { STRATEGIES, type Strategy } from '../../shared/identity/scope-config.ts';
import { ErrorBodySchema, apiError } from '../../shared/protocol/errors.ts';
import { LabJobParamsSchema, LabJobSchema, type LabJob } from '../../shared/protocol/lab-jobs.ts';
import { LabRunRequestSchema, type LabRunResponse } from '../../shared/protocol/lab.ts';
import { parseWith } from '../../shared/protocol/parse.ts';
import { ScenarioSchema, type Scenario } from '../../shared/protocol/scenario.ts';
import { LabJobs } from '../lab-jobs.ts';
import type { LabRunner } from '../lab.ts';
import type { ConsoleRouteHelpers } from './admin-console-routes.ts';

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

  admin.post('/lab/runs', async (request, reply): Promise<LabRunResponse | typeof reply> => {
    const body = await runBody(reply, request.body, helpers);
    if (body === null) return reply;
    const gone = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    return { runs: await lab.run(body.scenario, body.strategies, { signal: gone.signal }) };
  });

  admin.post('/lab/jobs', async (request, reply): Promise<LabJob | typeof reply> => {
    const body = await runBody(reply, request.body, helpers);
    if (body === null) return reply;
    const started = jobs.start(body.scenario, body.strategies);
    if (!started.ok) return fail(reply, started.error);
    return reply.code(202).send(started.value);
  });

  admin.get('/lab/jobs/:id', async (request, reply): Promise<LabJob | typeof reply> => {
    const params = parse(reply, LabJobParamsSchema, request.params);
    if (params === null) return reply;
    return jobs.get(params.id) ?? fail(reply, noJob(params.id));
  });

  admin.delete('/lab/jobs/:id', async (request, reply): Promise<LabJob | typeof reply> => {
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

/** The OpenAPI paths of the job routes, from the same schemas the routes parse and answer with. */
export function labJobPaths(
  json: (schema: z.ZodType, io?: 'input' | 'output') => Record<string, unknown>,
  security: Record<string, unknown>,
): Record<string, unknown> {
  const error = (description: string) => ({ description, ...json(ErrorBodySchema) });
  const id = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
  const job = (description: string) => ({ description, ...json(LabJobSchema) });
  const unknownJob = error('No such job (never started, or ended and forgotten)');
  return {
    '/admin/v1/lab/jobs': {
      post: {
        ...security,
        summary:
          'Start the runs of POST /admin/v1/lab/runs as a job and answer at once; poll it with GET, stop it with DELETE',
        requestBody: { required: true, ...json(LabRunRequestSchema, 'input') },
        responses: {
          '202': job('The job, every strategy waiting'),
          '400': error('Malformed scenario or strategy list (VALIDATION_ERROR, with the path)'),
          '429': error('As many jobs are running as allowed at once (RATE_LIMITED)'),
        },
      },
    },
    '/admin/v1/lab/jobs/{id}': {
      get: {
        ...security,
        parameters: [id],
        summary: 'A job: each strategy waiting, running, or ended with its run; done of total',
        responses: { '200': job('The job'), '400': error('Malformed id'), '404': unknownJob },
      },
      delete: {
        ...security,
        parameters: [id],
        summary: 'Cancel a running job (its simulators are stopped); an ended job is answered unchanged',
        responses: {
          '200': job('The job, cancelled or ended'),
          '400': error('Malformed id'),
          '404': unknownJob,
        },
      },
    },
  };
}
