import { ActionIcon, Code, CopyButton, Group, Tooltip } from '@mantine/core';
import { CheckIcon, CopyIcon } from './icons.tsx';

/** "1234…5678": enough to tell people apart on screen; the whole MPID is in the title and the copy. */
export function shortMpid(mpid: string): string {
  return mpid.length <= 10 ? mpid : `${mpid.slice(0, 4)}…${mpid.slice(-4)}`;
}

export function ShortMpid({ mpid, copy = true }: { mpid: string; copy?: boolean }) {
  return (
    <Group gap={4} wrap="nowrap" component="span">
      <Code title={mpid} aria-label={`MPID ${mpid}`}>
        {shortMpid(mpid)}
      </Code>
      {copy && (
        <CopyButton value={mpid} timeout={1500}>
          {({ copied, copy: doCopy }) => (
            <Tooltip label={copied ? 'Copied' : 'Copy MPID'} withArrow>
              <ActionIcon
                variant="subtle"
                color="gray"
                size="sm"
                aria-label={copied ? 'MPID copied' : 'Copy MPID'}
                onClick={doCopy}
              >
                {copied ? <CheckIcon /> : <CopyIcon />}
              </ActionIcon>
            </Tooltip>
          )}
        </CopyButton>
      )}
    </Group>
  );
}
