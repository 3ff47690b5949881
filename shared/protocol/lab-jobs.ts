/**
 * Lab jobs (SPEC LB-11..LB-14): a Conversion Lab run that does not hold a request open.
 * `POST /admin/v1/lab/jobs` takes the body of `POST /admin/v1/lab/runs` and answers 202 with the job
 * at once; `GET /admin/v1/lab/jobs/{id}` answers its progress (each strategy waiting, running, or
 * ended with the one-shot run's own answer), and `DELETE` cancels it. The strategies' runs are the
 * ones `POST /lab/runs` answers, by the same runner, so a completed job's runs are the one-shot
 * answer.
 */
import { z } from 'zod';
import { StrategySchema } from '../identity/scope-config.ts';
import { LabStrategyRunSchema, type LabStrategyRun } from './lab.ts';

/** A job id: a random UUID the server chose. */
const LabJobIdSchema = z.uuid();

export const LabJobParamsSchema = z.object({ id: LabJobIdSchema }).strict();

/** A strategy of a job: not started yet, running, or ended (a one-shot run's answer, or cancelled). */
export const LabJobStrategySchema = z.discriminatedUnion('status', [
  z.object({ strategy: StrategySchema, status: z.literal('waiting') }),
  z.object({ strategy: StrategySchema, status: z.literal('running') }),
  ...LabStrategyRunSchema.options,
]);
export type LabJobStrategy = z.infer<typeof LabJobStrategySchema>;

const LAB_JOB_STATES = ['running', 'completed', 'cancelled'] as const;

/**
 * A job: `running` until every strategy has ended, then `completed`; `cancelled` once asked to stop
 * (strategies that had ended keep their answers, the others read `cancelled`). `done` counts the
 * strategies that have ended, of `total`.
 */
export const LabJobSchema = z.object({
  id: LabJobIdSchema,
  state: z.enum(LAB_JOB_STATES),
  done: z.number().int().min(0),
  total: z.number().int().min(1),
  strategies: z.array(LabJobStrategySchema),
});
export type LabJob = z.infer<typeof LabJobSchema>;

/** A job's runs once every strategy has ended (the one-shot answer's `runs`), else null. */
export function jobRuns(job: LabJob): LabStrategyRun[] | null {
  const runs = job.strategies.filter(
    (entry): entry is LabStrategyRun => entry.status !== 'waiting' && entry.status !== 'running',
  );
  return runs.length === job.strategies.length ? runs : null;
}
