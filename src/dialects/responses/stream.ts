import { SseParser } from '../../accounting/sse.js';
import type { Json } from '../dialect.js';
import type { StreamTranslator } from '../translation.js';
import type { ResponsesContext } from './request.js';
import { callItem, customInput, messageItem, newId, reasoningItem, responseObject, responsesUsage, statusFor } from './response.js';
import { isRecord } from '../../lib/json.js';

/**
 * A streamed chat completion as the Responses event sequence:
 *
 *   response.created, response.in_progress,
 *   per output item: response.output_item.added, its part and deltas
 *     (reasoning_text / output_text / function_call_arguments), their .done events,
 *     response.output_item.done,
 *   response.completed (or response.incomplete at max_tokens / a content filter) with usage,
 *   or response.failed when the upstream stream broke off or reported an error.
 *
 * Chat deltas interleave nothing: reasoning comes first, then text, then tool calls one
 * index after another, so one item is open at a time and a delta of another kind closes it.
 */

interface OpenItem {
  kind: 'reasoning' | 'message' | 'call';
  index: number;
  id: string;
  text: string;
  /** Tool calls: the chat call index, call id and function name. */
  chatIndex?: number;
  callId?: string;
  name?: string;
}

export class ResponsesStream implements StreamTranslator {
  private readonly parser = new SseParser((e) => this.onEvent(e.data));
  private readonly id = newId('resp');
  private readonly createdAt = Math.floor(Date.now() / 1000);
  private out: string[] = [];
  private seq = 0;
  private started = false;
  private finished = false;
  private item: OpenItem | undefined;
  private readonly output: Json[] = [];
  private finishReason: unknown;
  private usage: unknown;
  private upstreamError: string | undefined;

  constructor(private readonly ctx: ResponsesContext) {}

  push(chunk: Buffer): string {
    this.parser.push(chunk);
    return this.flush();
  }

  end(complete: boolean): string {
    this.parser.end();
    this.start();
    this.closeItem();
    if (!this.finished) {
      this.finished = true;
      const base = { output: this.output, usage: responsesUsage(this.usage) };
      if (this.upstreamError !== undefined || !complete) {
        const message = this.upstreamError ?? 'The upstream stream ended before the response was complete.';
        this.emit('response.failed', { response: this.response({ ...base, status: 'failed', error: { code: 'server_error', message } }) });
      } else {
        const status = statusFor(this.finishReason);
        this.emit(status.status === 'completed' ? 'response.completed' : 'response.incomplete', { response: this.response({ ...base, ...status }) });
      }
    }
    return this.flush();
  }

  private flush(): string {
    if (this.out.length === 0) return '';
    const text = this.out.join('');
    this.out = [];
    return text;
  }

  private emit(type: string, fields: Json): void {
    this.out.push(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...fields })}\n\n`);
  }

  private response(fields: Json): Json {
    return responseObject(this.id, this.createdAt, this.ctx, fields);
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    const response = this.response({});
    this.emit('response.created', { response });
    this.emit('response.in_progress', { response });
  }

  private onEvent(data: string): void {
    if (this.finished || data.trim() === '[DONE]') return;
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      return; // a broken event: the accounting reader counts it; the client sees the rest
    }
    if (!isRecord(chunk)) return;
    this.start();
    if (isRecord(chunk.error)) {
      this.upstreamError = typeof chunk.error.message === 'string' ? chunk.error.message : 'The upstream reported an error mid-stream.';
      return;
    }
    if (isRecord(chunk.usage)) this.usage = chunk.usage;
    const choice = Array.isArray(chunk.choices) && isRecord(chunk.choices[0]) ? chunk.choices[0] : undefined;
    if (!choice) return;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    if (typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '') this.text('reasoning', delta.reasoning_content);
    if (typeof delta.content === 'string' && delta.content !== '') this.text('message', delta.content);
    if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls) if (isRecord(call)) this.toolCall(call);
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) this.finishReason = choice.finish_reason;
  }

  private text(kind: 'reasoning' | 'message', delta: string): void {
    if (this.item?.kind !== kind) {
      this.closeItem();
      const id = newId(kind === 'reasoning' ? 'rs' : 'msg');
      this.item = { kind, index: this.output.length, id, text: '' };
      const output_index = this.item.index;
      if (kind === 'reasoning') {
        this.emit('response.output_item.added', { output_index, item: { ...reasoningItem(id, ''), content: [] } });
        this.emit('response.content_part.added', { item_id: id, output_index, content_index: 0, part: { type: 'reasoning_text', text: '' } });
      } else {
        this.emit('response.output_item.added', { output_index, item: { ...messageItem(id, '', 'in_progress'), content: [] } });
        this.emit('response.content_part.added', {
          item_id: id,
          output_index,
          content_index: 0,
          part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
        });
      }
      this.output.push({});
    }
    const item = this.item!;
    item.text += delta;
    const type = kind === 'reasoning' ? 'response.reasoning_text.delta' : 'response.output_text.delta';
    this.emit(type, { item_id: item.id, output_index: item.index, content_index: 0, delta, ...(kind === 'message' ? { logprobs: [] } : {}) });
  }

  private toolCall(call: Json): void {
    const chatIndex = typeof call.index === 'number' ? call.index : 0;
    const f = isRecord(call.function) ? call.function : {};
    if (this.item?.kind !== 'call' || this.item.chatIndex !== chatIndex) {
      this.closeItem();
      const callId = typeof call.id === 'string' && call.id !== '' ? call.id : newId('call');
      const name = typeof f.name === 'string' ? f.name : '';
      this.item = { kind: 'call', index: this.output.length, id: newId('fc'), text: '', chatIndex, callId, name };
      this.emit('response.output_item.added', { output_index: this.item.index, item: callItem(this.item.id, callId, name, '', 'in_progress', this.ctx) });
      this.output.push({});
    }
    const item = this.item!;
    const args = typeof f.arguments === 'string' ? f.arguments : '';
    if (args === '') return;
    item.text += args;
    // A custom tool's input is a string inside the JSON arguments: sent whole once complete.
    if (!this.ctx.customTools.has(item.name!)) {
      this.emit('response.function_call_arguments.delta', { item_id: item.id, output_index: item.index, delta: args });
    }
  }

  private closeItem(): void {
    const item = this.item;
    if (!item) return;
    this.item = undefined;
    const output_index = item.index;
    let done: Json;
    if (item.kind === 'reasoning') {
      this.emit('response.reasoning_text.done', { item_id: item.id, output_index, content_index: 0, text: item.text });
      this.emit('response.content_part.done', { item_id: item.id, output_index, content_index: 0, part: { type: 'reasoning_text', text: item.text } });
      done = reasoningItem(item.id, item.text);
    } else if (item.kind === 'message') {
      this.emit('response.output_text.done', { item_id: item.id, output_index, content_index: 0, text: item.text, logprobs: [] });
      done = messageItem(item.id, item.text, 'completed');
      this.emit('response.content_part.done', { item_id: item.id, output_index, content_index: 0, part: (done.content as Json[])[0] });
    } else {
      done = callItem(item.id, item.callId!, item.name!, item.text, 'completed', this.ctx);
      if (done.type === 'custom_tool_call') {
        const input = customInput(item.text);
        this.emit('response.custom_tool_call_input.delta', { item_id: item.id, output_index, delta: input });
        this.emit('response.custom_tool_call_input.done', { item_id: item.id, output_index, input });
      } else {
        this.emit('response.function_call_arguments.done', { item_id: item.id, output_index, name: item.name, arguments: item.text });
      }
    }
    this.output[output_index] = done;
    this.emit('response.output_item.done', { output_index, item: done });
  }
}
