/**
 * The inference routes of `serve`: /v1/chat/completions (+ logprobs) and /v1/completions (+ echo logprobs),
 * answered by the provider's Model. Logprobs are per word piece (the server has no access to the model's own
 * tokenizer through the Model contract): each piece is teacher-forced on everything before it, so the pieces
 * of a continuation sum to its exact log-probability. Defaults follow OpenAI (temperature 1 when unset).
 *
 * Length limits are the client's business, so they are 400s, never 500s: a completion may ask for at most what
 * the server allows (`maxTokens`) and what the model's context leaves after the prompt (the prompt's tokens
 * plus one start token); a chat that sets no limit gets what fits. `usage` is what the model measured it
 * generated (GenerateOptions.onUsage) when it reports it, the text's token count otherwise.
 */
import type { GenerateOptions, GenerationUsage, Model } from '../types.js';
import { newId } from './store.js';
import { HttpError } from '../errors.js';
import { type Piece, messagesToPrompt, parseMessages, pieceLogprobs, pieces } from './wire.js';

/** Limits of the inference routes. */
export interface InferenceLimits {
  /** Most tokens one completion may ask for. */
  readonly maxTokens: number;
  /** Context of the models served when a model does not say (they are all fine-tunes of one base). */
  readonly contextLength?: number;
}

/** Most tokens a chat without a limit may generate when the model's context is unknown. */
const CHAT_DEFAULT_UNKNOWN_CONTEXT = 256;
/** OpenAI's default `max_tokens` of /v1/completions. */
const COMPLETION_DEFAULT = 16;

/** The two handlers over a model resolver. */
export function inferenceHandlers(resolveModel: (id: unknown) => Promise<Model>, limits: InferenceLimits) {
  const count = (model: Model, text: string) => model.countTokens?.(text) ?? pieces(text).length;

  /** The context, the longest prompt's tokens (plus one start token) and what is left for a completion; undefined when the context is unknown. */
  function room(model: Model, prompts: readonly string[]): { context: number; promptTokens: number; room: number } | undefined {
    const context = model.contextLength ?? limits.contextLength;
    if (context === undefined) return undefined;
    const promptTokens = Math.max(...prompts.map((p) => count(model, p) + 1));
    return { context, promptTokens, room: context - promptTokens };
  }

  /** The completion length: the request's, checked against the server's cap and the context, or `fallback`. */
  function completionLength(body: Record<string, unknown>, name: string, model: Model, prompts: readonly string[], fallback: number, min: number): number {
    const r = room(model, prompts);
    const requested = body[name];
    const max = numberParam(requested, Math.min(fallback, limits.maxTokens, r ? Math.max(r.room, 0) : Infinity), name, min, limits.maxTokens, true);
    if (r && ((max > 0 && max > r.room) || max < min)) {
      const asked = requested === undefined || requested === null || requested === 'auto' ? 'a completion' : `${name} = ${max}`;
      throw new HttpError(
        400,
        `this model's context is ${r.context} tokens and the prompt takes ${r.promptTokens} of them, so ${name} can be at most ${Math.max(r.room, 0)}; you asked for ${asked}`,
        { errorCode: 'context_length_exceeded', param: r.room < 1 ? 'messages' : name },
      );
    }
    return max;
  }

  /** Generates, and reads the model's own usage report when it gives exactly one for these prompts. */
  async function generate(model: Model, prompts: readonly string[], options: GenerateOptions): Promise<{ texts: string[]; usage: GenerationUsage[] }> {
    const reports: (readonly GenerationUsage[])[] = [];
    const texts = await model.generate(prompts, { ...options, onUsage: (u) => reports.push(u) });
    const measured = reports.length === 1 && reports[0]!.length === prompts.length ? reports[0]! : undefined;
    const usage = prompts.map((p, i): GenerationUsage => {
      if (measured) return measured[i]!;
      const completionTokens = count(model, texts[i] ?? '');
      return { promptTokens: count(model, p), completionTokens, finishReason: completionTokens >= options.maxTokens ? 'length' : 'stop' };
    });
    return { texts, usage };
  }

  async function chatCompletion(body: Record<string, unknown>) {
    const model = await resolveModel(body.model);
    const messages = parseMessages(body.messages, '');
    if (body.n !== undefined && body.n !== 1) throw new HttpError(400, 'only n = 1 is supported', { errorCode: 'invalid_n', param: 'n' });
    if (body.stream === true) throw new HttpError(400, 'streaming is not supported', { errorCode: 'stream_unsupported', param: 'stream' });
    const prompt = messagesToPrompt(messages);
    const name = body.max_completion_tokens !== undefined && body.max_completion_tokens !== null ? 'max_completion_tokens' : 'max_tokens';
    const contextKnown = (model.contextLength ?? limits.contextLength) !== undefined;
    const max = completionLength(body, name, model, [prompt], contextKnown ? Infinity : CHAT_DEFAULT_UNKNOWN_CONTEXT, 1);
    const { texts, usage } = await generate(model, [prompt], genOptions(body, max));
    const content = texts[0] ?? '';
    const u = usage[0]!;
    let logprobs: unknown = null;
    if (body.logprobs === true) {
      const { pieces: ps, logprobs: lps } = await pieceLogprobs(model, prompt, content);
      logprobs = { content: ps.map((p, i) => tokenEntry(p, lps[i] ?? 0)), refusal: null };
    }
    return {
      id: newId('chatcmpl'),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs, finish_reason: u.finishReason }],
      usage: { prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens },
    };
  }

  async function completion(body: Record<string, unknown>) {
    const model = await resolveModel(body.model);
    const prompts = typeof body.prompt === 'string' ? [body.prompt] : Array.isArray(body.prompt) && body.prompt.every((p) => typeof p === 'string') ? (body.prompt as string[]) : undefined;
    if (!prompts || prompts.length === 0 || prompts.length > 64) throw new HttpError(400, "'prompt' must be a string or 1–64 strings", { errorCode: 'invalid_prompt', param: 'prompt' });
    const max = completionLength(body, 'max_tokens', model, prompts, COMPLETION_DEFAULT, 0);
    const echo = body.echo === true;
    const k = body.logprobs === undefined || body.logprobs === null ? undefined : numberParam(body.logprobs, 0, 'logprobs', 0, 5, true);
    const { texts: outputs, usage } =
      max === 0
        ? { texts: prompts.map(() => ''), usage: prompts.map((p): GenerationUsage => ({ promptTokens: count(model, p), completionTokens: 0, finishReason: 'stop' })) }
        : await generate(model, prompts, genOptions(body, max));
    const choices = [];
    for (let i = 0; i < prompts.length; i++) {
      const prompt = prompts[i]!;
      const out = outputs[i] ?? '';
      let logprobs: unknown = null;
      if (k !== undefined) {
        const tokens: string[] = [];
        const tokenLogprobs: (number | null)[] = [];
        const offsets: number[] = [];
        const add = (ps: Piece[], lps: (number | null)[], base: number) =>
          ps.forEach((p, j) => {
            tokens.push(p.text);
            tokenLogprobs.push(lps[j] ?? null);
            offsets.push(base + p.start);
          });
        if (echo) {
          const r = await pieceLogprobs(model, '', prompt);
          add(r.pieces, r.logprobs, 0);
        }
        if (out) {
          const r = await pieceLogprobs(model, prompt, out);
          add(r.pieces, r.logprobs, echo ? prompt.length : 0);
        }
        logprobs = { tokens, token_logprobs: tokenLogprobs, top_logprobs: tokens.map((t, j) => (tokenLogprobs[j] === null ? null : { [t]: tokenLogprobs[j] })), text_offset: offsets };
      }
      choices.push({ index: i, text: (echo ? prompt : '') + out, logprobs, finish_reason: usage[i]!.finishReason });
    }
    const promptTokens = usage.reduce((a, u) => a + u.promptTokens, 0);
    const completionTokens = usage.reduce((a, u) => a + u.completionTokens, 0);
    return { id: newId('cmpl'), object: 'text_completion', created: Math.floor(Date.now() / 1000), model: body.model, choices, usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } };
  }

  return { chatCompletion, completion };
}

function genOptions(body: Record<string, unknown>, maxTokens: number) {
  const temperature = body.temperature === undefined || body.temperature === null ? 1 : numberParam(body.temperature, 1, 'temperature', 0, 2, false);
  const seed = body.seed === undefined || body.seed === null ? undefined : numberParam(body.seed, 0, 'seed', 0, 2 ** 53, true);
  const stopRaw = body.stop;
  const stop = typeof stopRaw === 'string' ? [stopRaw] : Array.isArray(stopRaw) && stopRaw.every((s) => typeof s === 'string') ? (stopRaw as string[]) : undefined;
  if (stopRaw !== undefined && stopRaw !== null && !stop) throw new HttpError(400, "'stop' must be a string or a list of strings", { errorCode: 'invalid_stop', param: 'stop' });
  const topP = body.top_p === undefined || body.top_p === null ? undefined : numberParam(body.top_p, 1, 'top_p', 0, 1, false);
  return { maxTokens, temperature, ...(seed !== undefined ? { seed } : {}), ...(stop ? { stop } : {}), ...(topP !== undefined ? { topP } : {}) };
}

function tokenEntry(p: Piece, logprob: number) {
  const bytes = [...Buffer.from(p.text, 'utf8')];
  return { token: p.text, logprob, bytes, top_logprobs: [{ token: p.text, logprob, bytes }] };
}

/** A numeric request parameter: default when absent or 'auto', 400 naming it when out of range. */
export function numberParam(v: unknown, fallback: number, name: string, min: number, max: number, integer: boolean): number {
  if (v === undefined || v === null || v === 'auto') return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new HttpError(400, `${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}] or 'auto'`, { errorCode: 'invalid_parameter', param: name });
  }
  return v;
}
