import { createClient, type FacetApi } from '../../../shared/client';
import { createHttpLink } from './http-link';

/**
 * The one API object the UI uses. Which door carries it (Electron IPC or loopback HTTP) is decided
 * here, once; no component or store knows.
 */
export const api: FacetApi = createClient(window.facetBridge ?? createHttpLink());
