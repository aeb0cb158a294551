// The embedded engine's public API. Compute core (model, training, inference):
export { LlamaModel } from './model.js';
export { fineTune, type TokenizedExample, type TrainConfig, type TrainResult, type StepInfo } from './train.js';
export { generate, scoreTokens, embed, lossOf, type GenerateOptions } from './infer.js';
export { defaultThreads } from './parallel.js';
