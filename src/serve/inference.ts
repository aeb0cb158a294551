/**
 * The inference routes of `serve`: /v1/chat/completions (+ logprobs) and /v1/completions (+ echo logprobs),
 * answered by the provider's Model. Logprobs are per word piece (the server has no access to the model's own
 * tokenizer through the Model contract): each piece is teacher-forced on everything before it, so the pieces
 * of a continuation sum to its exact log-probability. Defaults follow OpenAI (temperature 1 when unset).
 */
import type { Model } from '../types.js';
import { newId } from './store.js';
import { HttpError, type Piece, messagesToPrompt, parseMessages, pieceLogprobs, pieces } from './wire.js';

/** The two handlers over a model resolver; `maxTokens` caps what a request may ask for. */
export function inferenceHandlers(resolveModel: (id: unknown) => Promise<Model>, maxTokens: number) {
  const count = (model: Model, text: string) => model.countTokens?.(text) ?? pieces(text).length;

  async function chatCompletion(body: Record<string, unknown>) {
    const model = await resolveModel(body.model);
    const messages = parseMessages(body.messages, '');
    if (body.n !== undefined && body.n !== 1) throw new HttpError(400, 'only n = 1 is supported', 'invalid_n', 'n');
    if (body.stream === true) throw new HttpError(400, 'streaming is not supported', 'stream_unsupported', 'stream');
    const max = numberParam(body.max_completion_tokens ?? body.max_tokens, 256, 'max_completion_tokens', 1, maxTokens, true);
    const prompt = messagesToPrompt(messages);
    const [content] = await model.generate([prompt], genOptions(body, max));
    const completionTokens = count(model, content!);
    let logprobs: unknown = null;
    if (body.logprobs === true) {
      const { pieces: ps, logprobs: lps } = await pieceLogprobs(model, prompt, content!);
      logprobs = { content: ps.map((p, i) => tokenEntry(p, lps[i] ?? 0)), refusal: null };
    }
    return {
      id: newId('chatcmpl'),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs, finish_reason: completionTokens >= max ? 'length' : 'stop' }],
      usage: { prompt_tokens: count(model, prompt), completion_tokens: completionTokens, total_tokens: count(model, prompt) + completionTokens },
    };
  }

  async function completion(body: Record<string, unknown>) {
    const model = await resolveModel(body.model);
    const prompts = typeof body.prompt === 'string' ? [body.prompt] : Array.isArray(body.prompt) && body.prompt.every((p) => typeof p === 'string') ? (body.prompt as string[]) : undefined;
    if (!prompts || prompts.length === 0 || prompts.length > 64) throw new HttpError(400, "'prompt' must be a string or 1–64 strings", 'invalid_prompt', 'prompt');
    const max = numberParam(body.max_tokens, 16, 'max_tokens', 0, maxTokens, true);
    const echo = body.echo === true;
    const k = body.logprobs === undefined || body.logprobs === null ? undefined : numberParam(body.logprobs, 0, 'logprobs', 0, 5, true);
    const outputs = max === 0 ? prompts.map(() => '') : await model.generate(prompts, genOptions(body, max));
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
      choices.push({ index: i, text: (echo ? prompt : '') + out, logprobs, finish_reason: max > 0 && count(model, out) >= max ? 'length' : 'stop' });
    }
    const promptTokens = prompts.reduce((a, p) => a + count(model, p), 0);
    const completionTokens = outputs.reduce((a, o) => a + count(model, o), 0);
    return { id: newId('cmpl'), object: 'text_completion', created: Math.floor(Date.now() / 1000), model: body.model, choices, usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } };
  }

  return { chatCompletion, completion };
}

function genOptions(body: Record<string, unknown>, maxTokens: number) {
  const temperature = body.temperature === undefined || body.temperature === null ? 1 : numberParam(body.temperature, 1, 'temperature', 0, 2, false);
  const seed = body.seed === undefined || body.seed === null ? undefined : numberParam(body.seed, 0, 'seed', 0, 2 ** 53, true);
  const stopRaw = body.stop;
  const stop = typeof stopRaw === 'string' ? [stopRaw] : Array.isArray(stopRaw) && stopRaw.every((s) => typeof s === 'string') ? (stopRaw as string[]) : undefined;
  if (stopRaw !== undefined && stopRaw !== null && !stop) throw new HttpError(400, "'stop' must be a string or a list of strings", 'invalid_stop', 'stop');
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
    throw new HttpError(400, `${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}] or 'auto'`, 'invalid_parameter', name);
  }
  return v;
}
