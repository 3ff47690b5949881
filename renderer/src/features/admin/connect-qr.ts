/**
 * The device connect link as a QR code (AC-41), encoded by `qr` (pure JavaScript, no network) and
 * drawn by the console itself as one SVG path, so no markup from a library reaches the page.
 */
import encodeQR from 'qr';

/** Light modules kept around the code, as the QR standard asks, so phones find its edges. */
export const QR_QUIET_ZONE = 4;

export interface QrDrawing {
  /** Modules per side, quiet zone included: the SVG's view box is this square. */
  readonly size: number;
  /** One unit square per dark module (`M x y h1 v1 h-1 z`), quiet zone included. */
  readonly path: string;
}

/** The QR code of `text` (error correction "medium", which survives a smudged screen). */
export function qrDrawing(text: string): QrDrawing {
  const modules = encodeQR(text, 'raw', { ecc: 'medium', border: QR_QUIET_ZONE });
  const parts: string[] = [];
  modules.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) parts.push(`M${x} ${y}h1v1h-1z`);
    });
  });
  return { size: modules.length, path: parts.join('') };
}
