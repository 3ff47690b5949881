// @vitest-environment happy-dom
/**
 * The device connect link's QR code (SPEC AC-41): the SVG path the console draws, painted pixel by
 * pixel, decodes (with `qr`'s own decoder) back to exactly the link; the image is named for what
 * it opens.
 */
import { MantineProvider } from '@mantine/core';
import { cleanup, render, screen } from '@testing-library/react';
import decodeQR from 'qr/decode.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectQrCode } from '../../../renderer/src/features/admin/ConnectQrCode.tsx';
import { qrDrawing, QR_QUIET_ZONE } from '../../../renderer/src/features/admin/connect-qr.ts';
import { deviceConnectLink } from '../../../renderer/src/features/admin/input-words.ts';

afterEach(cleanup);

/** Paints the drawing's unit squares (`M x y h1v1h-1z`) black on white, `scale` pixels per module. */
function paint(drawing: { size: number; path: string }, scale: number) {
  const width = drawing.size * scale;
  const data = new Uint8ClampedArray(width * width * 4).fill(255);
  for (const match of drawing.path.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) {
    const [x, y] = [Number(match[1]), Number(match[2])];
    for (let dy = 0; dy < scale; dy++)
      for (let dx = 0; dx < scale; dx++) {
        const at = ((y * scale + dy) * width + x * scale + dx) * 4;
        data[at] = data[at + 1] = data[at + 2] = 0;
      }
  }
  return { width, height: width, data };
}

describe('device connect QR code', () => {
  it('[AC-41] the drawn path decodes back to exactly the connect link, quiet zone included', () => {
    const link = deviceConnectLink('https://ids.example.com/app/#/admin/inputs', 'us1-0123456789abcdef');
    const drawing = qrDrawing(link);
    expect(drawing.path).toMatch(/^(M\d+ \d+h1v1h-1z)+$/);
    const coordinates = [...drawing.path.matchAll(/M(\d+) (\d+)/g)].flatMap((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(Math.min(...coordinates)).toBe(QR_QUIET_ZONE);
    expect(Math.max(...coordinates)).toBe(drawing.size - QR_QUIET_ZONE - 1);
    expect(decodeQR(paint(drawing, 4))).toBe(link);
  });

  it('[AC-41] a long link with every character a URL may carry round-trips too', () => {
    const link = `https://ids.example.com:8443/a/b/app/#/connect?server=${encodeURIComponent('https://ids.example.com:8443/a/b')}&key=us1-${'k'.repeat(64)}`;
    expect(decodeQR(paint(qrDrawing(link), 3))).toBe(link);
  });

  it('[AC-41] the SVG is an image labelled with the input it connects to', () => {
    render(
      <MantineProvider>
        <ConnectQrCode link="https://ids.example.com/app/#/connect?server=x&key=k" inputName="Shop floor" />
      </MantineProvider>,
    );
    const image = screen.getByRole('img', { name: /QR code of the device connect link for Shop floor/ });
    expect(image.tagName.toLowerCase()).toBe('svg');
    expect(image.querySelector('path')?.getAttribute('d')).toMatch(/^M/);
  });
});
