/// <reference types="vite/client" />
import type { DoorLink } from '../../shared/client';

declare global {
  interface Window {
    /** Present only inside the Electron window (exposed by the preload). */
    facetBridge?: DoorLink;
  }
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}
