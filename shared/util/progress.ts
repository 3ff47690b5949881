/**
 * A progress bar for long command-line work. On a terminal it redraws one line; elsewhere (CI logs,
 * pipes) it prints a line every tenth of the way, so logs stay short and readable.
 */
export interface ProgressSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface Progress {
  update(done: number, detail?: string): void;
  finish(detail?: string): void;
}

const WIDTH = 28;

export function progressBar(sink: ProgressSink, label: string, total: number): Progress {
  let lastTenth = -1;
  const line = (done: number, detail: string) => {
    const fraction = total === 0 ? 1 : Math.min(1, done / total);
    const filled = Math.round(fraction * WIDTH);
    const percent = String(Math.floor(fraction * 100)).padStart(3);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${percent}% ${done}/${total}${detail === '' ? '' : ` ${detail}`}`;
  };
  return {
    update(done, detail = '') {
      if (sink.isTTY === true) {
        sink.write(`\r${line(done, detail)}\u001b[K`);
        return;
      }
      const tenth = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        sink.write(`${line(done, detail)}\n`);
      }
    },
    finish(detail = '') {
      if (sink.isTTY === true) sink.write(`\r${line(total, detail)}\u001b[K\n`);
      else if (lastTenth < 10) sink.write(`${line(total, detail)}\n`);
    },
  };
}
