import { useEffect, useState } from 'react';
import type { FieldEngine } from '../../app/opening-engine.ts';

/** The event names recorded lately on this device, read again whenever `version` changes. */
export function useRecentEventNames(engine: FieldEngine, version: number): readonly string[] {
  const [names, setNames] = useState<readonly string[]>([]);
  useEffect(() => {
    let live = true;
    engine.recentEventNames().then(
      (found) => live && setNames(found),
      () => live && setNames([]),
    );
    return () => {
      live = false;
    };
  }, [engine, version]);
  return names;
}
