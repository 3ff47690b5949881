import { ActionIcon, Checkbox, Group, Text, VisuallyHidden } from '@mantine/core';
import { useEffect, useRef, useState, type DragEvent, type KeyboardEvent } from 'react';
import type { IdentityType } from '../../../../../shared/identity/identity-types.ts';
import type { ScopeConfig } from '../../../../../shared/identity/scope-config.ts';
import { identityLabel } from '../../../identity/identity-labels.ts';
import { FLAG_WORDS, IDENTITY_FLAGS, moveItem, withFlag, withoutType } from './config-editor.ts';

interface PriorityListProps {
  readonly config: ScopeConfig;
  readonly onChange: (config: ScopeConfig) => void;
}

/**
 * The identity priority, highest first, with each type's login / unique / immutable flags (AC-20, AC-22).
 * It reorders by dragging a row, by its move-up / move-down buttons, or by the arrow keys on a
 * row's handle; every move is announced, and the focus stays on what was moved.
 */
export function PriorityList({ config, onChange }: PriorityListProps) {
  const list = config.identityPriority;
  const [dragging, setDragging] = useState<IdentityType | null>(null);
  const [announcement, setAnnouncement] = useState('');
  /** React may move a reordered row's node, which drops the focus; it is put back after the render. */
  const refocus = useRef<string | null>(null);

  useEffect(() => {
    if (refocus.current === null) return;
    document.querySelector<HTMLElement>(`[data-focus-key="${refocus.current}"]`)?.focus();
    refocus.current = null;
  });

  function move(type: IdentityType, to: number, focusKey: string) {
    const from = list.indexOf(type);
    const next = moveItem(list, from, to);
    if (next === list) return;
    onChange({ ...config, identityPriority: [...next] });
    setAnnouncement(`${identityLabel(type)} moved to position ${next.indexOf(type) + 1} of ${next.length}.`);
    refocus.current = focusKey;
  }

  function onHandleKey(event: KeyboardEvent, type: IdentityType, index: number) {
    const to =
      event.key === 'ArrowUp'
        ? index - 1
        : event.key === 'ArrowDown'
          ? index + 1
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? list.length - 1
              : null;
    if (to === null) return;
    event.preventDefault();
    move(type, to, `handle-${type}`);
  }

  function onDrop(event: DragEvent, index: number) {
    event.preventDefault();
    if (dragging !== null) move(dragging, index, `handle-${dragging}`);
    setDragging(null);
  }

  return (
    <>
      <ol className="admin-priority" aria-label="Identity priority, highest first">
        {list.map((type, index) => {
          const label = identityLabel(type);
          return (
            <li
              key={type}
              draggable
              data-dragging={dragging === type || undefined}
              onDragStart={(event) => {
                event.dataTransfer.effectAllowed = 'move';
                event.dataTransfer.setData('text/plain', type);
                setDragging(type);
              }}
              onDragEnd={() => setDragging(null)}
              onDragOver={(event) => event.preventDefault()}
              onDrop={(event) => onDrop(event, index)}
            >
              <Group gap="xs" wrap="nowrap" className="admin-priority-head">
                <button
                  type="button"
                  className="admin-priority-handle"
                  data-focus-key={`handle-${type}`}
                  aria-label={`${label}, position ${index + 1} of ${list.length}. Arrow keys move it.`}
                  onKeyDown={(event) => onHandleKey(event, type, index)}
                >
                  <span aria-hidden="true">⠿</span>
                </button>
                <Text span fw={600} className="admin-break" style={{ flex: 1 }}>
                  {index + 1}. {label}
                </Text>
                <ActionIcon
                  variant="default"
                  aria-label={`Move ${label} up`}
                  data-focus-key={`up-${type}`}
                  disabled={index === 0}
                  onClick={() => move(type, index - 1, `up-${type}`)}
                >
                  <span aria-hidden="true">↑</span>
                </ActionIcon>
                <ActionIcon
                  variant="default"
                  aria-label={`Move ${label} down`}
                  data-focus-key={`down-${type}`}
                  disabled={index === list.length - 1}
                  onClick={() => move(type, index + 1, `down-${type}`)}
                >
                  <span aria-hidden="true">↓</span>
                </ActionIcon>
                <ActionIcon
                  variant="default"
                  color="red"
                  aria-label={`Remove ${label} from the priority`}
                  onClick={() => {
                    onChange(withoutType(config, type));
                    setAnnouncement(`${label} removed from the priority.`);
                  }}
                >
                  <span aria-hidden="true">×</span>
                </ActionIcon>
              </Group>
              <Group gap="md" wrap="wrap" pl="2.25rem" mt={4}>
                {IDENTITY_FLAGS.map((flag) => (
                  <Checkbox
                    key={flag}
                    size="xs"
                    label={FLAG_WORDS[flag]}
                    aria-label={`${label}: ${FLAG_WORDS[flag].toLowerCase()}`}
                    checked={config[flag].includes(type)}
                    onChange={(event) => onChange(withFlag(config, type, flag, event.currentTarget.checked))}
                  />
                ))}
              </Group>
            </li>
          );
        })}
      </ol>
      <VisuallyHidden role="status" aria-live="polite">
        {announcement}
      </VisuallyHidden>
    </>
  );
}
