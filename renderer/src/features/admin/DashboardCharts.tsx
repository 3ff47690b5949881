/**
 * The dashboard's charts, hand-written SVG (no charting library: the console is a lazy chunk and
 * stays small). Each chart is an image with a one-sentence summary as its accessible name, and
 * its figures as a table under "Show as a table", so nothing is said by the drawing alone (AC-34).
 * The SVGs stretch to any width; their labels are HTML, so they stay legible at 360 px.
 */
import { Anchor, Group, Text } from '@mantine/core';
import { Link } from 'react-router';
import type { StatsBucket } from '../../../../shared/protocol/admin-stats.ts';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import {
  bucketLabel,
  lagInWords,
  lineRuns,
  OUTCOME_LABELS,
  OUTCOME_ORDER,
  outcomeTotals,
  percent,
  type ConversionPoint,
  type LagRow,
  type Outcome,
  type OutcomeBucket,
} from './dashboard-data.ts';

const OUTCOME_COLOURS: Readonly<Record<Outcome, string>> = {
  created: 'var(--mantine-color-blue-6)',
  converted: 'var(--mantine-color-grape-6)',
  matched: 'var(--mantine-color-teal-6)',
  failed: 'var(--mantine-color-red-7)',
};

/** Width of one bucket in the drawing's own units; the plot is 100 units high. */
const SLOT = 10;

function XAxis({ starts, bucket }: { starts: readonly number[]; bucket: StatsBucket }) {
  const first = starts[0];
  const last = starts.at(-1);
  if (first === undefined || last === undefined) return null;
  return (
    <Group justify="space-between" aria-hidden="true" className="dash-axis">
      <span>{bucketLabel(first, bucket)}</span>
      <span>{bucketLabel(last, bucket)}</span>
    </Group>
  );
}

/** Resolutions per bucket as stacked bars: created, converted, matched, failed from the bottom. */
export function OutcomeChart({
  buckets,
  bucket,
}: {
  buckets: readonly OutcomeBucket[];
  bucket: StatsBucket;
}) {
  const totals = outcomeTotals(buckets);
  const highest = Math.max(1, ...buckets.map((b) => b.total));
  const summary = `Resolutions by outcome: ${OUTCOME_ORDER.map((o) => `${totals[o]} ${OUTCOME_LABELS[o].toLowerCase()}`).join(', ')}; at most ${highest} in one ${bucket}.`;
  return (
    <div>
      <ul className="dash-legend" aria-label="Totals by outcome">
        {OUTCOME_ORDER.map((outcome) => (
          <li key={outcome}>
            <span
              className="dash-swatch"
              style={{ background: OUTCOME_COLOURS[outcome] }}
              aria-hidden="true"
            />
            {OUTCOME_LABELS[outcome]} <strong>{totals[outcome]}</strong>
          </li>
        ))}
      </ul>
      <div className="dash-plot">
        <span className="dash-ymax" aria-hidden="true">
          {highest}
        </span>
        <svg
          role="img"
          aria-label={summary}
          viewBox={`0 0 ${buckets.length * SLOT} 100`}
          preserveAspectRatio="none"
          className="dash-svg"
        >
          {buckets.flatMap((b, index) => {
            let top = 100;
            return OUTCOME_ORDER.filter((o) => b.counts[o] > 0).map((outcome) => {
              const height = (b.counts[outcome] / highest) * 100;
              top -= height;
              return (
                <rect
                  key={`${b.bucketStart}-${outcome}`}
                  x={index * SLOT + 1}
                  y={top}
                  width={SLOT - 2}
                  height={height}
                  fill={OUTCOME_COLOURS[outcome]}
                />
              );
            });
          })}
        </svg>
      </div>
      <XAxis starts={buckets.map((b) => b.bucketStart)} bucket={bucket} />
      <details className="dash-details">
        <summary>Show as a table</summary>
        <div className="dash-table-wrap" tabIndex={0} role="region" aria-label="Resolutions table">
          <table className="dash-table">
            <caption>Resolutions per {bucket} (UTC), by outcome</caption>
            <thead>
              <tr>
                <th scope="col">{bucket === 'hour' ? 'Hour' : 'Day'}</th>
                {OUTCOME_ORDER.map((o) => (
                  <th scope="col" key={o}>
                    {OUTCOME_LABELS[o]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {buckets
                .filter((b) => b.total > 0)
                .map((b) => (
                  <tr key={b.bucketStart}>
                    <th scope="row">{bucketLabel(b.bucketStart, bucket)}</th>
                    {OUTCOME_ORDER.map((o) => (
                      <td key={o}>{b.counts[o]}</td>
                    ))}
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}

/** The conversion rate per creation bucket as a line (0–100 %), broken where there is no rate. */
export function ConversionChart({
  points,
  bucket,
}: {
  points: readonly ConversionPoint[];
  bucket: StatsBucket;
}) {
  const runs = lineRuns(points);
  const withRate = points.filter((p) => p.rate !== null);
  const summary =
    withRate.length === 0
      ? 'Conversion rate per bucket: no profile started anonymous in this window.'
      : `Conversion rate per ${bucket}: ${withRate.map((p) => `${bucketLabel(p.bucketStart, bucket)} ${percent(p.rate)}`).join(', ')}.`;
  return (
    <div>
      <div className="dash-plot">
        <span className="dash-ymax" aria-hidden="true">
          100%
        </span>
        <svg
          role="img"
          aria-label={summary}
          viewBox={`0 0 ${points.length * SLOT} 100`}
          preserveAspectRatio="none"
          className="dash-svg dash-svg-line"
        >
          {runs.map((run) => (
            <polyline
              key={run[0]![0]}
              fill="none"
              stroke="var(--mantine-color-grape-6)"
              strokeWidth={3}
              strokeLinejoin="round"
              vectorEffect="non-scaling-stroke"
              points={run.map(([index, rate]) => `${index * SLOT + SLOT / 2},${100 - rate * 100}`).join(' ')}
            />
          ))}
          {/* A dot per point: a tiny line with a round cap stays round however the drawing stretches. */}
          {runs.flat().map(([index, rate]) => (
            <line
              key={`dot-${index}`}
              x1={index * SLOT + SLOT / 2 - 0.01}
              x2={index * SLOT + SLOT / 2 + 0.01}
              y1={100 - rate * 100}
              y2={100 - rate * 100}
              stroke="var(--mantine-color-grape-6)"
              strokeWidth={8}
              strokeLinecap="round"
              vectorEffect="non-scaling-stroke"
            />
          ))}
        </svg>
      </div>
      <XAxis starts={points.map((p) => p.bucketStart)} bucket={bucket} />
      <details className="dash-details">
        <summary>Show as a table</summary>
        <div className="dash-table-wrap" tabIndex={0} role="region" aria-label="Conversion table">
          <table className="dash-table">
            <caption>Anonymous profiles created per {bucket} (UTC) and how many converted</caption>
            <thead>
              <tr>
                <th scope="col">{bucket === 'hour' ? 'Hour' : 'Day'}</th>
                <th scope="col">Started anonymous</th>
                <th scope="col">Converted</th>
                <th scope="col">Rate</th>
              </tr>
            </thead>
            <tbody>
              {withRate.map((p) => (
                <tr key={p.bucketStart}>
                  <th scope="row">{bucketLabel(p.bucketStart, bucket)}</th>
                  <td>{p.startedAnonymous}</td>
                  <td>{p.converted}</td>
                  <td>{percent(p.rate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}

/** Sync lag per device as a table whose lag cell carries a bar, the longest first. */
export function LagTable({ rows }: { rows: readonly LagRow[] }) {
  return (
    <div className="dash-table-wrap" tabIndex={0} role="region" aria-label="Lag table">
      <table className="dash-table dash-lag">
        <caption>Time since each device was last seen, longest first</caption>
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">Lag</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              <th scope="row">
                <Anchor
                  component={Link}
                  to={`/admin/devices/${encodeURIComponent(row.id)}`}
                  className="admin-break"
                >
                  {row.name}
                </Anchor>
                {row.revoked && (
                  <Text span ml="xs">
                    <StatusBadge tone="danger">Revoked</StatusBadge>
                  </Text>
                )}
              </th>
              <td>
                <div className="dash-lag-cell">
                  <span
                    className="dash-lag-bar"
                    style={{ width: `${row.share * 100}%` }}
                    aria-hidden="true"
                  />
                  <span className="dash-lag-text">{lagInWords(row.lagMs)}</span>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
