/**
 * The examiner's side of pair review (ACE-V): who examines, the initial assessment made before
 * Facet's score is shown, the FISWG component checklist of a decision, and blind verification.
 * Kept beside contract.ts, which names the methods that use these schemas.
 */
import { z } from 'zod';

/** The examiner's name as they give it; it becomes the author of everything they record. */
export const Examiner = z.string().trim().min(1, 'name the examiner').max(200, 'is too long');

const FaceId = z.number().int().positive();

/** A small scale per factor, best first; the examiner judges each portrait on its own. */
export const PORTRAIT_FACTORS = {
  quality: ['good', 'fair', 'poor'],
  pose: ['frontal', 'turned', 'profile'],
  lighting: ['even', 'uneven', 'harsh'],
  occlusion: ['none', 'partial', 'heavy'],
} as const;

export const PortraitAssessment = z
  .object({
    quality: z.enum(PORTRAIT_FACTORS.quality),
    pose: z.enum(PORTRAIT_FACTORS.pose),
    lighting: z.enum(PORTRAIT_FACTORS.lighting),
    occlusion: z.enum(PORTRAIT_FACTORS.occlusion),
  })
  .strict();
export type PortraitAssessment = z.infer<typeof PortraitAssessment>;

/** The propositions the evidence is weighed between (Hp for the likelihood ratio's numerator). */
export const DEFAULT_PROPOSITIONS = {
  hp: 'The two portraits show the same person.',
  hd: 'The two portraits show two different people.',
} as const;

const Proposition = z.string().trim().min(1, 'must not be empty').max(2000);

export const AssessmentRequest = z
  .object({
    faceA: FaceId,
    faceB: FaceId,
    examiner: Examiner,
    /** skipped: the examiner chose to see the score without an assessment; recorded as such. */
    kind: z.enum(['assessment', 'skipped']),
    portraits: z.object({ a: PortraitAssessment, b: PortraitAssessment }).strict().optional(),
    propositions: z.object({ hp: Proposition, hd: Proposition }).strict().optional(),
  })
  .strict()
  .refine((r) => r.faceA !== r.faceB, { message: 'an assessment compares two different faces', path: ['faceB'] })
  .refine((r) => r.kind === 'skipped' || (r.portraits !== undefined && r.propositions !== undefined), {
    message: 'an assessment judges both portraits and states both propositions',
    path: ['portraits'],
  })
  .refine((r) => r.kind === 'assessment' || (r.portraits === undefined && r.propositions === undefined), {
    message: 'a skipped assessment carries no judgements',
    path: ['kind'],
  });

export const Assessment = z.object({
  id: z.number().int(),
  faceA: z.number().int(),
  faceB: z.number().int(),
  examiner: z.string(),
  kind: z.enum(['assessment', 'skipped']),
  /** In the order of the request that read it (a and b follow faceA and faceB). */
  portraits: z.object({ a: PortraitAssessment, b: PortraitAssessment }).nullable(),
  propositions: z.object({ hp: z.string(), hd: z.string() }).nullable(),
  createdAt: z.string(),
});
export type Assessment = z.infer<typeof Assessment>;

/** FISWG facial components compared in a morphological analysis. */
export const FISWG_COMPONENTS = [
  ['forehead', 'Forehead'],
  ['eyebrows', 'Eyebrows'],
  ['eyes', 'Eyes'],
  ['cheeks', 'Cheeks'],
  ['nose', 'Nose'],
  ['ears', 'Ears'],
  ['mouth', 'Mouth'],
  ['chin_jawline', 'Chin / jawline'],
  ['face_outline', 'Face outline'],
  ['hair', 'Hair'],
  ['scars_marks', 'Scars / marks'],
] as const;
export type FiswgComponent = (typeof FISWG_COMPONENTS)[number][0];
export const COMPONENT_FINDINGS = ['similar', 'dissimilar', 'not_assessable'] as const;
export type ComponentFinding = (typeof COMPONENT_FINDINGS)[number];

const Finding = z.enum(COMPONENT_FINDINGS);
/** Every component is answered; "not assessable" is an answer. */
export const Checklist = z
  .object(Object.fromEntries(FISWG_COMPONENTS.map(([k]) => [k, Finding])) as Record<FiswgComponent, typeof Finding>)
  .strict();
export type Checklist = z.infer<typeof Checklist>;

/** Scale -> conclusion (paper 003, Fig. 7): 1-2 same, 3 inconclusive, 4-5 different. */
export function conclusionOfScale(scale: number): 'same' | 'different' | 'inconclusive' {
  return scale <= 2 ? 'same' : scale === 3 ? 'inconclusive' : 'different';
}

/** Two examiners' current decisions that disagree: another conclusion, or scales 2 or more apart. */
export const Disagreement = z.object({
  decisions: z.tuple([z.number().int(), z.number().int()]),
  examiners: z.tuple([z.string(), z.string()]),
  reason: z.string(),
});
export type Disagreement = z.infer<typeof Disagreement>;

const QueueFace = z.object({ faceId: z.number().int(), sha256: z.string(), face: z.number().int(), subject: z.string().nullable() });

export const QueueRequest = z.object({ examiner: Examiner }).strict();

export const QueueItem = z.object({
  faceA: QueueFace,
  faceB: QueueFace,
  /** How many other examiners have a current decision (their names and conclusions stay blind). */
  decidedBy: z.number().int(),
  lastDecisionAt: z.string(),
  disagreements: z.array(Disagreement),
});
export type QueueItem = z.infer<typeof QueueItem>;

export const VerificationQueue = z.object({
  examiner: z.string(),
  /** Pairs others have decided and this examiner has not: to verify blind. */
  awaiting: z.array(QueueItem),
  /** Pairs this examiner has decided where current decisions disagree. */
  disagreements: z.array(QueueItem),
});
