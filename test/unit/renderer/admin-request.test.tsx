// @vitest-environment happy-dom
/**
 * A stored request in the admin's profile detail (SPEC TR-5, LS-5): with its trace, the
 * explanation in words; without one (it changed nothing, or its trace expired, LS-10), a sentence
 * that says so and where the change is recorded, not an error.
 */
import { MantineProvider } from '@mantine/core';
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryIdentityStore } from '../../../shared/memory-store/memory-store.ts';
import { explainInWords } from '../../../shared/resolver/explain-in-words.ts';
import { programFor } from '../../../shared/resolver/program-for.ts';
import { resolveOptions } from '../../../shared/resolver/context.ts';
import { runSync } from '../../../shared/resolver/store-port.ts';
import { seededRandom } from '../../../shared/util/random.ts';
import { RequestExplained } from '../../../renderer/src/features/admin/RequestExplained.tsx';
import { scenarioConfig } from '../../helpers/harness.ts';

afterEach(cleanup);

function storedLogin() {
  const store = new MemoryIdentityStore();
  const body = { environment: 'production', request_id: 'r-1', known_identities: { customerid: 'c1' } };
  const options = resolveOptions({
    config: scenarioConfig('profile_conversion'),
    random: seededRandom(1),
    now: Date.UTC(2026, 11, 1),
    actor: { kind: 'app', id: 'test' },
  });
  store.transactionSync((tx) => runSync(programFor('login', { body }, options), tx));
  const [request] = store.dumpSync().requests;
  if (request?.trace === null || request === undefined) throw new Error('the login stored no trace');
  return request;
}

const show = (request: ReturnType<typeof storedLogin>) =>
  render(
    <MantineProvider>
      <RequestExplained request={request} />
    </MantineProvider>,
  );

describe('a stored request in the profile detail', () => {
  it('[TR-5] a request with its trace is explained in words', () => {
    const request = storedLogin();
    show(request);
    const { headline } = explainInWords(request.trace as NonNullable<typeof request.trace>);
    expect(screen.getByRole('article').textContent).toContain(headline);
  });

  it('[LS-5][LS-10] a request without its trace says its explanation is not kept and points at the history', () => {
    show({ ...storedLogin(), trace: null });
    const text = screen.getByRole('article').textContent ?? '';
    expect(text).toMatch(/explanation is not kept/);
    expect(text).toMatch(/changed nothing, or it is older than the server keeps explanations/);
    expect(text).toMatch(/history/);
  });
});
