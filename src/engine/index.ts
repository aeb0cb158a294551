// The embedded engine's public API. Compute core (model, training, inference):
export { LlamaModel } from './model.js';
export { fineTune, type TokenizedExample, type TrainConfig, type TrainResult, type StepInfo } from './train.js';
export { generate, scoreTokens, nextTokenLogits, embed, lossOf, type GenerateOptions } from './infer.js';
export { defaultThreads } from './parallel.js';
// Model formats (GGUF in and out, tokenizers):
export { parseGguf, writeGguf, tensorF32, type GgufFile, type GgufValue } from './gguf.js';
export { loadModelFile, loadModelBytes, modelToGguf, saveModelFile, type LoadedModel, type SaveableModel } from './load.js';
export { SpmTokenizer, byteLevelTokenizerData, type TokenizerData } from './tokenizer.js';
export { trainBpe, type BpeTrainOptions } from './bpe-trainer.js';
