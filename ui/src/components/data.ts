// Loading data for a page: the value, the error (the API's message), and a
// reload that keeps showing the old value meanwhile, so live updates do not
// make the page flicker.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/client';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

export function useData<T>(load: (signal: AbortSignal) => Promise<T>, dependencies: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loader = useRef(load);
  loader.current = load;

  const reload = useCallback(() => {
    const mine = ++generation.current;
    const controller = new AbortController();
    setLoading(true);
    loader.current(controller.signal).then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (cause) => {
        if (mine !== generation.current || (cause instanceof DOMException && cause.name === 'AbortError')) return;
        setError(cause instanceof ApiError ? cause : new ApiError(0, 'client', String(cause)));
        setLoading(false);
      },
    );
    return controller;
  }, []);

  useEffect(() => {
    setData(undefined);
    const controller = reload();
    return () => {
      generation.current++;
      controller.abort();
    };
  }, dependencies);

  return { data, error, loading, reload };
}
