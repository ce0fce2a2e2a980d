/**
 * The status and phase vocabularies of a cycle, defined once. Core, CLI, extension and the webview
 * bundle import them from here (this module depends on nothing but zod, so every bundle can).
 */
import * as z from 'zod';

/** The phases of one PDCA cycle, in order (spec §4). */
export const CYCLE_PHASES = ['PLAN', 'DO', 'CHECK', 'ADJUST'] as const;
export type CyclePhase = (typeof CYCLE_PHASES)[number];
export const cyclePhaseSchema = z.enum(CYCLE_PHASES);

/** Outcome of one PDCA cycle as history records it. */
export const CYCLE_STATUSES = ['PASS', 'FAIL', 'BLOCKED', 'TIMEOUT', 'ABORTED'] as const;
export type CycleStatus = (typeof CYCLE_STATUSES)[number];
export const cycleStatusSchema = z.enum(CYCLE_STATUSES);

/** Statuses that count as a failed attempt of a ticket (retry cap, escalation). */
export const FAILED_STATUSES: ReadonlySet<CycleStatus> = new Set<CycleStatus>(['FAIL', 'TIMEOUT']);

/** Status of one phase on the Run panel's timeline (and in a history entry's `phases`). */
export const PHASE_STATUSES = ['PENDING', 'RUNNING', 'PASS', 'FAIL', 'SKIPPED', 'UNKNOWN'] as const;
export type PhaseStatus = (typeof PHASE_STATUSES)[number];
export const phaseStatusSchema = z.enum(PHASE_STATUSES);

/** The result of one Gate step (guard or stage), as the Gate report and the evidence manifest record it. */
export const STEP_STATUSES = ['PASS', 'FAIL', 'TIMEOUT', 'ERROR', 'SKIPPED'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
export const stepStatusSchema = z.enum(STEP_STATUSES);
