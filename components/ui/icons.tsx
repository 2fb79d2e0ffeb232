import type { ReactNode, SVGProps } from "react";

/**
 * Every icon the app draws, in one place. Icons are decoration by default (`aria-hidden`): the
 * text next to them says what they mean. Pass `title` for an icon that stands alone; it is then
 * an image with that name. Size and colour come from `className` (Tailwind `size-*`, `text-*`).
 */
export type IconProps = Omit<SVGProps<SVGSVGElement>, "children"> & { title?: string };

type Drawing = { viewBox: string; paint: "stroke" | "fill" | "none"; strokeWidth?: string; children: ReactNode };

/** The accessible defaults every icon shares: hidden from assistive technology unless titled. */
function Svg({ title, children, ...props }: IconProps & { children: ReactNode }) {
  return (
    <svg {...(title ? { role: "img", "aria-label": title } : { "aria-hidden": true })} {...props}>
      {title ? <title>{title}</title> : null}
      {children}
    </svg>
  );
}

function icon(name: string, { viewBox, paint, strokeWidth, children }: Drawing) {
  const paintProps =
    paint === "stroke"
      ? { fill: "none", stroke: "currentColor", strokeWidth }
      : paint === "fill"
        ? { fill: "currentColor" }
        : { fill: "none" };
  function Icon(props: IconProps) {
    return (
      <Svg viewBox={viewBox} {...paintProps} {...props}>
        {children}
      </Svg>
    );
  }
  Icon.displayName = name;
  return Icon;
}

const outline = (children: ReactNode, strokeWidth = "1.6"): Drawing => ({
  viewBox: "0 0 20 20",
  paint: "stroke",
  strokeWidth,
  children,
});
const solid = (children: ReactNode): Drawing => ({ viewBox: "0 0 20 20", paint: "fill", children });

// ---------------------------------------------------------------------------------------------
// The logo: a video camera, filled (header), outlined (a card without a poster), and large with a
// play mark (the empty history).

export const LogoIcon = icon("LogoIcon", {
  viewBox: "0 0 24 24",
  paint: "none",
  children: (
    <>
      <rect x="2" y="5" width="14" height="14" rx="3" fill="currentColor" />
      <path d="m17 10 5-3v10l-5-3z" fill="currentColor" />
    </>
  ),
});

export const VideoOutlineIcon = icon("VideoOutlineIcon", {
  viewBox: "0 0 24 24",
  paint: "stroke",
  strokeWidth: "1.5",
  children: (
    <>
      <rect x="2.5" y="5" width="14" height="14" rx="2.5" />
      <path d="m16.5 10 5-3v10l-5-3z" strokeLinejoin="round" />
    </>
  ),
});

export const VideoPlayIcon = icon("VideoPlayIcon", {
  viewBox: "0 0 48 48",
  paint: "none",
  children: (
    <>
      <rect x="4" y="10" width="30" height="28" rx="6" stroke="currentColor" strokeWidth="2.5" />
      <path d="m34 20 10-6v20l-10-6z" stroke="currentColor" strokeWidth="2.5" strokeLinejoin="round" />
      <path d="M15 19v10l8-5z" fill="currentColor" />
    </>
  ),
});

// ---------------------------------------------------------------------------------------------
// Theme

export const MonitorIcon = icon(
  "MonitorIcon",
  outline(
    <>
      <rect x="2.5" y="3.5" width="15" height="10" rx="1.5" />
      <path d="M7 16.5h6M10 13.5v3" strokeLinecap="round" />
    </>,
  ),
);

export const SunIcon = icon(
  "SunIcon",
  outline(
    <>
      <circle cx="10" cy="10" r="3.5" />
      <path
        d="M10 1.5v2M10 16.5v2M1.5 10h2M16.5 10h2M4 4l1.4 1.4M14.6 14.6 16 16M4 16l1.4-1.4M14.6 5.4 16 4"
        strokeLinecap="round"
      />
    </>,
  ),
);

export const MoonIcon = icon(
  "MoonIcon",
  outline(<path d="M16.5 12.5A7 7 0 0 1 7.5 3.5a7 7 0 1 0 9 9Z" strokeLinejoin="round" />),
);

// ---------------------------------------------------------------------------------------------
// Actions

export const DownloadIcon = icon(
  "DownloadIcon",
  outline(<path d="M10 3v10m0 0-4-4m4 4 4-4M4 16h12" strokeLinecap="round" strokeLinejoin="round" />, "1.8"),
);

export const RemixIcon = icon(
  "RemixIcon",
  outline(<path d="M3 6h9a4 4 0 0 1 0 8H6m0 0 3-3m-3 3 3 3" strokeLinecap="round" strokeLinejoin="round" />),
);

/** "Continue from the last frame": an arrow up to a closing bar. */
export const ContinueIcon = icon(
  "ContinueIcon",
  outline(<path d="M3 10h10m0 0-4-4m4 4-4 4M16 4v12" strokeLinecap="round" strokeLinejoin="round" />),
);

export const BellIcon = icon(
  "BellIcon",
  outline(
    <path d="M10 2.5a5 5 0 0 0-5 5v3l-1.5 3h13L15 10.5v-3a5 5 0 0 0-5-5ZM8 16a2 2 0 0 0 4 0" strokeLinejoin="round" />,
  ),
);

export const DiceIcon = icon(
  "DiceIcon",
  outline(
    <>
      <rect x="3" y="3" width="14" height="14" rx="3" />
      <circle cx="7.5" cy="7.5" r="1" fill="currentColor" />
      <circle cx="12.5" cy="12.5" r="1" fill="currentColor" />
      <circle cx="12.5" cy="7.5" r="1" fill="currentColor" />
      <circle cx="7.5" cy="12.5" r="1" fill="currentColor" />
    </>,
  ),
);

export const SparklesIcon = icon(
  "SparklesIcon",
  outline(
    <path
      d="M10 2.5 11.6 7l4.4 1.6-4.4 1.6L10 14.7l-1.6-4.5L4 8.6 8.4 7zM15.5 13l.7 1.8 1.8.7-1.8.7-.7 1.8-.7-1.8-1.8-.7 1.8-.7z"
      strokeLinejoin="round"
    />,
  ),
);

// ---------------------------------------------------------------------------------------------
// States

export const CheckIcon = icon(
  "CheckIcon",
  solid(
    <path
      fillRule="evenodd"
      d="M16.7 5.3a1 1 0 0 1 0 1.4l-8 8a1 1 0 0 1-1.4 0l-4-4a1 1 0 1 1 1.4-1.4L8 12.58l7.3-7.3a1 1 0 0 1 1.4 0Z"
      clipRule="evenodd"
    />,
  ),
);

export const CheckCircleIcon = icon(
  "CheckCircleIcon",
  solid(
    <path
      fillRule="evenodd"
      d="M10 18a8 8 0 1 0 0-16 8 8 0 0 0 0 16Zm3.86-9.8a.75.75 0 0 0-1.22-.88l-3.24 4.5-1.6-1.6a.75.75 0 1 0-1.06 1.06l2.2 2.2a.75.75 0 0 0 1.14-.09l3.78-5.19Z"
      clipRule="evenodd"
    />,
  ),
);

export const XCircleIcon = icon(
  "XCircleIcon",
  solid(
    <path
      fillRule="evenodd"
      d="M10 18a8 8 0 1 0 0-16 8 8 0 0 0 0 16ZM8.28 7.22a.75.75 0 0 0-1.06 1.06L8.94 10l-1.72 1.72a.75.75 0 1 0 1.06 1.06L10 11.06l1.72 1.72a.75.75 0 1 0 1.06-1.06L11.06 10l1.72-1.72a.75.75 0 0 0-1.06-1.06L10 8.94 8.28 7.22Z"
      clipRule="evenodd"
    />,
  ),
);

export const AlertCircleIcon = icon(
  "AlertCircleIcon",
  solid(
    <path
      fillRule="evenodd"
      d="M18 10a8 8 0 1 1-16 0 8 8 0 0 1 16 0Zm-8-5a.75.75 0 0 1 .75.75v4.5a.75.75 0 0 1-1.5 0v-4.5A.75.75 0 0 1 10 5Zm0 10a1 1 0 1 0 0-2 1 1 0 0 0 0 2Z"
      clipRule="evenodd"
    />,
  ),
);

export const MinusCircleIcon = icon(
  "MinusCircleIcon",
  outline(
    <>
      <circle cx="10" cy="10" r="7.25" />
      <path d="M6.5 10h7" strokeLinecap="round" />
    </>,
  ),
);

export const DashedCircleIcon = icon(
  "DashedCircleIcon",
  outline(<circle cx="10" cy="10" r="7.25" strokeDasharray="3 3" />),
);

/** A ring with a moving quarter; spin it with `motion-safe:animate-spin`. `track`: the ring's opacity. */
export function SpinnerIcon({ track = 0.25, ...props }: IconProps & { track?: number }) {
  return (
    <Svg viewBox="0 0 24 24" fill="none" {...props}>
      <circle cx="12" cy="12" r="9" stroke="currentColor" strokeOpacity={String(track)} strokeWidth="3" />
      <path d="M21 12a9 9 0 0 0-9-9" stroke="currentColor" strokeWidth="3" strokeLinecap="round" />
    </Svg>
  );
}
