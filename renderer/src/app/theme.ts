/**
 * A calm, professional theme: indigo on neutral greys, light by default and dark when the system
 * asks for it. Shades are chosen so text meets WCAG AA (4.5:1) on both schemes: filled buttons
 * use shade 8, and the dimmed and "light" text colours Mantine uses are darkened (or, in the
 * dark scheme, lightened) from its defaults.
 */
import { createTheme, type CSSVariablesResolver } from '@mantine/core';

export const theme = createTheme({
  primaryColor: 'indigo',
  primaryShade: { light: 8, dark: 8 },
  defaultRadius: 'md',
  fontFamily:
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif',
  headings: { fontWeight: '650' },
  focusRing: 'auto',
});

export const cssVariablesResolver: CSSVariablesResolver = (t) => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': t.colors.gray[7] ?? '#495057',
    '--mantine-color-indigo-light-color': t.colors.indigo[9] ?? '#364fc7',
    '--mantine-color-red-light-color': t.colors.red[9] ?? '#c92a2a',
    '--mantine-color-gray-light-color': t.colors.gray[8] ?? '#343a40',
    '--mantine-color-error': t.colors.red[9] ?? '#c92a2a',
  },
  dark: {
    '--mantine-color-dimmed': t.colors.dark[1] ?? '#b8b8b8',
    '--mantine-color-indigo-light-color': t.colors.indigo[3] ?? '#91a7ff',
    '--mantine-color-red-light-color': t.colors.red[3] ?? '#ffa8a8',
    '--mantine-color-error': t.colors.red[3] ?? '#ffa8a8',
  },
});
