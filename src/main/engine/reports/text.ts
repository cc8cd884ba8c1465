/**
 * The report's wording, shared by the HTML and PDF writers so both say exactly the same things.
 */
import { canonicalJson } from '../catalog/audit';
import type { ReportData } from './collect';

/** Paper 003's five-point scale (Fig. 7), as the pair review screen words it. */
export const SCALE_LABELS: Record<number, string> = {
  1: 'Sure they are the same person',
  2: 'Think they are the same person',
  3: 'Not sure',
  4: 'Think they are different people',
  5: 'Sure they are different people',
};

export const num = (x: number | null | undefined, digits = 4): string => (x === null || x === undefined ? '-' : Number.isFinite(x) ? x.toPrecision(digits) : String(x));

export const lrText = (lr: number): string => (lr >= 1000 || lr < 0.001 ? lr.toExponential(2) : lr.toPrecision(3));

type System = NonNullable<ReportData['verification']>['systems'][number];

export function headline(data: ReportData): { system: System; evidence: System['evidence'][number] } | null {
  const v = data.verification;
  if (!v) return null;
  const system = v.systems.find((s) => s.system === 'fusion' && s.evidence.length) ?? v.systems.find((s) => s.evidence.length);
  const evidence = system?.evidence.find((e) => e.method === 'logistic') ?? system?.evidence[0];
  return system && evidence ? { system, evidence } : null;
}

export function headlineSentence(data: ReportData): string | null {
  const h = headline(data);
  if (!h) return null;
  return `${h.system.system}: likelihood ratio ${lrText(h.evidence.lr)} (log10 ${h.evidence.log10Lr.toFixed(2)}), ${h.evidence.verbal}.`;
}

export function calibrationSentence(data: ReportData): string | null {
  const v = data.verification;
  if (!v) return null;
  const how = { requested: 'named in the request', selected: 'chosen for this catalog', default: 'the default (no set chosen: the newest in the catalog, else the built-in one)' }[v.calibrationChoice.how];
  return v.calibrationSet ? `Calibration set "${v.calibrationSet}", ${how}.` : `No calibration applied (${how}); scores only.`;
}

/** Every distinct calibration behind the LRs, with where it came from. */
export function calibrationsUsed(data: ReportData): { name: string; method: string; source: string; pairList: string; pairListSha256: string; pairs: string; fittedAt: string; bounds: string }[] {
  const out = new Map<string, ReturnType<typeof calibrationsUsed>[number]>();
  for (const s of data.verification?.systems ?? []) {
    for (const e of s.evidence) {
      const p = e.calibration.provenance;
      const key = `${e.calibration.name}/${s.system}/${e.method}`;
      out.set(key, {
        name: `${e.calibration.name} (${s.system}, ${e.method})`,
        method: e.method,
        source: p.source,
        pairList: p.pairList,
        pairListSha256: p.pairListSha256,
        pairs: `${p.targets} same-person + ${p.nonTargets} different-people pairs`,
        fittedAt: p.fittedAt,
        bounds: `log10 LR in [${e.calibration.bounds[0].toFixed(2)}, ${e.calibration.bounds[1].toFixed(2)}]`,
      });
    }
  }
  return [...out.values()];
}

const KNOWN_DECISION_KEYS = ['id', 'faceA', 'faceB', 'conclusion', 'scale', 'rationale', 'evidence', 'author', 'supersedes', 'supersededBy', 'createdAt'];

/** A decision as label/value lines: the known fields first, then any others the Decision type holds. */
export function decisionFields(d: ReportData['decisions'][number]): [string, string][] {
  const rows: [string, string][] = [
    ['Decision', `#${d.id}${d.supersededBy !== null ? ` (superseded by #${d.supersededBy})` : ' (current)'}${d.supersedes !== null ? `, supersedes #${d.supersedes}` : ''}`],
    ['Recorded', `${d.createdAt} by ${d.author}`],
    ['Faces', `${d.faceA} and ${d.faceB}`],
    ['Conclusion', d.conclusion],
    ['Scale', d.scale === null ? '-' : `${d.scale}. ${SCALE_LABELS[d.scale] ?? ''}`],
    ['Rationale', d.rationale],
  ];
  for (const key of Object.keys(d).filter((k) => !KNOWN_DECISION_KEYS.includes(k)).sort()) {
    const v = d[key];
    if (v === undefined || v === null) continue;
    rows.push([key, typeof v === 'string' ? v : canonicalJson(v)]);
  }
  return rows;
}

/** The scores Facet showed when the decision was made (stored with it). */
export function decisionEvidence(d: ReportData['decisions'][number]): string[] {
  const ev = d.evidence as { calibrationSet?: string | null; systems?: { system: string; score: number; threshold: number | null; evidence?: { method: string; log10Lr: number; calibration: string }[] }[] } | null;
  if (!ev?.systems) return [];
  return ev.systems.map((s) => {
    const lrs = (s.evidence ?? []).map((e) => `${e.method} LR ${lrText(10 ** e.log10Lr)} (${e.calibration})`).join(', ');
    return `${s.system}: score ${num(s.score)}, threshold ${num(s.threshold)}${lrs ? `; ${lrs}` : ''}`;
  });
}

export const auditDetails = (details: unknown): string => canonicalJson(details);

export function qualityText(q: Record<string, number>): string {
  const pick: [string, string, number][] = [
    ['detectorScore', 'detector', 2],
    ['interOcular', 'inter-ocular px', 0],
    ['yaw', 'yaw°', 0],
    ['sharpness', 'sharpness', 0],
  ];
  return pick
    .filter(([k]) => typeof q[k] === 'number')
    .map(([k, label, d]) => `${label} ${(q[k] as number).toFixed(d)}`)
    .join(', ');
}
