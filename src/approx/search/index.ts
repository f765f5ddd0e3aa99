// The search library behind the `sensitivity` and `search` steps. No ONNX, no pipelines: evaluations
// are injected async functions, persistence is an injected store and checkpoint sink.
export type {Assignment, EvaluatedPoint, Evaluate, EvaluationOutcome, Json, MultiplierCandidate, PredictedDrops, RelativePower, SearchLayer, SearchProblem} from './types.js';
export {macWeightedRelativePower} from './power.js';
export {evaluationKey, InMemoryEvaluationStore, type EvaluationScope, type EvaluationStore} from './memo.js';
export {DEFAULT_SEARCH_METHOD, runSearch, SEARCH_METHODS, type SearchMethod, type SearchOptions, type SearchResult} from './search.js';
export {DEFAULT_POLICY, type PolicyParams} from './policy.js';
export {DEFAULT_REWARD, reward, type RewardShape} from './reward.js';
export {DEFAULT_EXPLORATION, uctScore} from './uct.js';
export {bestFeasible, paretoFront} from './pareto.js';
export {cellValue, measureSensitivity, predictedDrops, type SensitivityCell, type SensitivityMatrix, type SensitivityOptions} from './sensitivity.js';
export {SearchInputError, type SearchInputSubject} from './errors.js';
export {confirm, type Confirmation, type ConfirmationOptions, type ConfirmedCandidate, type HoldoutStage} from './confirm.js';
export {encodeCorrect, decodeCorrect, pairedAgainst} from './correctness.js';
