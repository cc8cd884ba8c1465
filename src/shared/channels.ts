// Names shared by main and the sandboxed preload. No imports: the preload bundle stays tiny.

/** Electron IPC channel for requests (invoke) and for engine events (send). */
export const IPC_CALL = 'facet:call';
export const IPC_EVENT = 'facet:event';
/** Custom protocol that serves originals from the catalog store to the window, and nothing else. */
export const MEDIA_SCHEME = 'facet-media';
