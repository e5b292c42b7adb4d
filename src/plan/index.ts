/** Rotation plans: pure data, built from gathered facts and rendered as text. */
export type {
  Exposure,
  GenerateSpec,
  Plan,
  PlanAction,
  PlanConfigEdit,
  PlanFile,
  PlanSummary,
  PlanValue,
  RecipientRemoval,
} from './model.js';
export { buildPlan, summarize, type BuildPlanInput, type ExposureFn, type FileFacts } from './build.js';
export { expectedDiff, renderHuman, renderMarkdown, valueLine } from './render.js';
