import { Kbd, Tooltip } from '@mantine/core';
import type { ReactElement } from 'react';

/** A control with its keyboard shortcut shown in a tooltip ("Next person — Alt + N"). */
export function Shortcut({
  keys,
  label,
  children,
}: {
  keys: readonly string[];
  label: string;
  children: ReactElement;
}) {
  return (
    <Tooltip
      withArrow
      openDelay={300}
      events={{ hover: true, focus: true, touch: false }}
      label={
        <span>
          {label}{' '}
          {keys.map((key, i) => (
            <span key={key}>
              {i > 0 && ' + '}
              <Kbd size="xs">{key}</Kbd>
            </span>
          ))}
        </span>
      }
    >
      {children}
    </Tooltip>
  );
}
