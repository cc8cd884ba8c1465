import type { ProviderChoice, ProviderName, ProviderPreference } from './providers';

export interface TensorData {
  data: Float32Array;
  dims: number[];
}

export interface InferenceInit {
  modelsDir: string;
  userModelsDir?: string;
  preference: ProviderPreference;
  intraOpThreads?: number;
}

export type InferenceRequest =
  | { type: 'info'; id: number }
  | { type: 'run'; id: number; model: string; input: TensorData };

export interface SessionInfo {
  id: string;
  provider: ProviderName;
  note?: string;
}

export type InferenceReply =
  | { type: 'info'; id: number; choice: ProviderChoice; sessions: SessionInfo[] }
  | { type: 'run'; id: number; outputs: Record<string, TensorData> }
  | { type: 'error'; id: number; message: string };
