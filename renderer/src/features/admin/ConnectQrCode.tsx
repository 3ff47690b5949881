import { useMemo } from 'react';
import { qrDrawing } from './connect-qr.ts';

/** The connect link as a scannable QR code (AC-41): an image named for what it opens. */
export function ConnectQrCode({ link, inputName }: { link: string; inputName: string }) {
  const { size, path } = useMemo(() => qrDrawing(link), [link]);
  return (
    <svg
      role="img"
      aria-label={`QR code of the device connect link for ${inputName}: scan it with a phone to connect the app`}
      viewBox={`0 0 ${size} ${size}`}
      width={176}
      height={176}
      shapeRendering="crispEdges"
      className="admin-qr"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
