/**
 * Component tests (happy-dom) wait up to 10 s for what they look for (`findBy…`, `waitFor`).
 * Testing Library's default, 1 s, is shorter than a busy CI machine takes to open an engine and
 * render the Field; a test that waits for the right state loses nothing by a longer bound.
 */
if (typeof document !== 'undefined') {
  const { configure } = await import('@testing-library/react');
  configure({ asyncUtilTimeout: 10_000 });
}

export {};
