// A stand-in for @tauri-apps/api/event in `vite build --mode mock`: nothing arrives.
export type UnlistenFn = () => void;
export async function listen<T>(_event: string, _handler: (e: { payload: T }) => void): Promise<UnlistenFn> {
  return () => {};
}
