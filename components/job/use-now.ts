import { useCallback, useSyncExternalStore } from "react";

// Whole seconds, so that repeated reads within a second agree (useSyncExternalStore requires it).
const readNow = () => Math.floor(Date.now() / 1000) * 1000;
const serverNow = () => null;

/** The time now, ticking every second while `active`; null during server rendering and hydration. */
export function useNow(active: boolean): number | null {
  const subscribe = useCallback(
    (onTick: () => void) => {
      if (!active) return () => {};
      const timer = setInterval(onTick, 1000);
      return () => clearInterval(timer);
    },
    [active],
  );
  return useSyncExternalStore(subscribe, readNow, serverNow);
}
