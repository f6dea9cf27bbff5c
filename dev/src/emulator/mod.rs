//! A Bedrock Runtime look-alike on loopback, for tests and local development: `POST
//! /model/{modelId}/converse`, `/converse-stream`, `/invoke` and `/invoke-with-response-stream`
//! (Mistral's native bodies) with the real wire format (JSON replies, CRC-checked
//! `application/vnd.amazon.eventstream` frames, `x-amzn-ErrorType` errors), so the real
//! `aws-sdk-bedrockruntime` client (or boto3) can be pointed at it (`endpoint_url(emulator.url())`).
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! let emulator = dev::emulator::Emulator::start().await?;
//! // aws_sdk_bedrockruntime::Config::builder().endpoint_url(emulator.url())...
//! # Ok(()) }
//! ```
//!
//! # Requests
//!
//! Model IDs may be percent-encoded in the path. Accepted: `^(?:(us|eu|apac|global)\.)?mistral\.[a-z0-9.\-]+(:\d+)?$`,
//! or an ARN (`.../foundation-model/<id>`, `.../inference-profile/<id>`) ending in such an ID,
//! or an application inference profile ARN (`arn:aws:bedrock:REGION:ACCOUNT:application-inference-profile/ID`)
//! registered with [`Emulator::register_profile`], which then behaves as its model. Anything else
//! is `400 ValidationException` "The provided model identifier is invalid.", on every operation,
//! like the real service. What the script and the checks know of a model comes from
//! `shared::catalog` for the foundation model behind the id (profile prefixes and ARNs resolved):
//! its tier (models the catalog does not know count as below `Large`), whether it reasons, whether
//! it has native structured output (`capabilities.json_schema`; models the catalog does not know
//! count as without, as `catalog::UNKNOWN_CAPABILITIES` says).
//!
//! Then, like Bedrock, before any generation (`400 ValidationException`): a body that is not JSON;
//! `messages` missing or empty; a first message that is not `user`; two consecutive messages with
//! the same role; a message with empty `content`; a `toolResult` whose `toolUseId` is not a
//! `toolUse` of the immediately preceding assistant message; an assistant `toolUse` that the next
//! message (when there is one) does not answer; `toolUse`/`toolResult` blocks without
//! `toolConfig`; `toolConfig.tools` empty (or `toolChoice` without tools, or naming an undefined
//! tool, duplicate or malformed tool names); `inferenceConfig.temperature` or `topP` outside
//! [0, 1], `maxTokens` < 1; `outputConfig.textFormat` of type `json_schema` whose
//! `structure.jsonSchema.schema` is not a string holding a JSON schema object; a `reasoningContent`
//! block outside an assistant message, or holding neither `reasoningText.text` nor
//! `redactedContent`; then, once the rest passed, any `outputConfig` to a model without native
//! structured output ([`validate::NO_STRUCTURED_OUTPUT`]: "This model doesn't support the
//! outputConfig field. Remove it and try again.").
//!
//! # The scripted model
//!
//! Let T be the text of the last user message (its text blocks joined by spaces, except blocks
//! equal to `shared::model_choice::protocol::ESCALATION_INSTRUCTION`, which the model does not
//! read), with the directives (`[[...]]` tokens, listed below) removed and whitespace collapsed.
//! The reply is:
//!
//! 0. **Routing protocol.** A triage call (`outputConfig.textFormat` `json_schema` whose
//!    `jsonSchema.name` is `TRIAGE_SCHEMA_NAME`) is answered `{"difficulty":"hard"}` when the last
//!    user message holds `[[hard]]`, else `{"difficulty":"easy"}`. Else, when the last user message
//!    holds the escalation instruction and `[[hard]]`, and the model's tier is below `Large`, the
//!    reply is exactly `ESCALATION_MARKER` (`end_turn`).
//! 1. **Tool results.** If the last user message holds `toolResult` blocks, the text
//!    `Tool results: name=<tool> -> <content>; name=<tool> -> <content>` (tool name taken from the
//!    matching `toolUse`; text content as is, `json` content as compact JSON, several content
//!    blocks joined by a space; a result with `status: error` renders as `name=<tool> -> error:
//!    <content>`). Except: if the first user message of the conversation holds `[[then:NAME]]` or
//!    `[[then:NAME {json}]]` directives and this is the first tool-result turn, the model calls
//!    those tools instead (all in one turn: a tool chain across turns); and if it holds
//!    `[[loop:NAME ...]]`, the model calls NAME again after every tool-result turn, forever (for
//!    step-limit tests).
//! 2. **Tool calls.** Else, if `toolConfig.tools` is offered, the model calls tools
//!    (`stopReason: tool_use`, no text block) when:
//!    - (a) T holds `[[call:NAME]]` or `[[call:NAME {"json":"args"}]]` (or `[[loop:...]]`)
//!      directives: one `toolUse` block per directive, in order. NAME need not be an offered tool
//!      (a hallucinated tool) and given arguments are used verbatim, even if they break the schema;
//!    - (b) no such directive, but tool names match T: a tool's name is split on `_` and `-`, the
//!      generic words (get, retrieve, fetch, find, lookup, list, search, query, the) dropped, and it
//!      matches if any remaining word of 3+ characters occurs in T, case-insensitively. Every
//!      matching tool is called, in `tools` order ("status and date of T1001" calls both
//!      `retrieve_payment_status` and `retrieve_payment_date`);
//!    - (c) `toolChoice` is `any`: as (a)/(b), else the first tool; `toolChoice` is
//!      `{"tool":{"name":N}}`: exactly N (with the arguments of a `[[call:N {..}]]` if given).
//!
//!    `toolChoice` `auto` or absent: only (a)/(b). Arguments not given are built from the tool's
//!    `inputSchema.json`, every property: string → the first identifier-shaped token of T
//!    (`[A-Z]+[0-9]+`, e.g. `T1001`) if the property name contains "id" and T has one, else
//!    `"example"`; integer/number → 1 (moved into `minimum`/`maximum`); boolean → true; `enum` → its
//!    first value; `const` → it; object → built the same way (`{}` without properties); array → `[]`
//!    (or `minItems` items); `$ref`/`anyOf`/`oneOf` are followed. `toolUseId` is `tooluse_` and 22
//!    letters/digits derived from (number of messages, block index, tool name): deterministic and
//!    distinct per call.
//! 3. **Text.** Else `You said: <T>`, prefixed by `[system: <system text>] ` when there is a
//!    system prompt, suffixed by ` (turn N)` when the conversation has N > 1 user messages.
//!    `[[words:N]]` replaces the whole reply by exactly N words `word1 word2 ... wordN`. JSON
//!    requests are answered with compact JSON instead: `outputConfig.textFormat` `json_schema` →
//!    a value generated from the schema (same rules as tool arguments), so it validates; a system
//!    block equal to `shared::convert::request::JSON_OBJECT_INSTRUCTION` → `{"answer": <the echo>}`
//!    (the instruction left out of `[system: ...]`). With `[[broken-json]]`, a model below `Large`
//!    sends that JSON without its last character (an unclosed object: not JSON). Stop reason
//!    `end_turn`, or: `[[maxtokens]]` → `max_tokens`, `[[stop]]` → `stop_sequence`,
//!    `[[guardrail]]` → `guardrail_intervened`, `[[context]]` → `model_context_window_exceeded`.
//!    If `inferenceConfig.maxTokens` is below the reply's word count, the reply is cut to that
//!    many words and the stop reason is `max_tokens`.
//! 4. **Reasoning.** A model whose catalog entry has `capabilities.reasoning` (Magistral) answers
//!    with a first block `{"reasoningContent": {"reasoningText": {"text": "Thinking about: <T>"}}}`
//!    (`Thinking about: the conversation` when T is empty), then the reply's blocks.
//! 5. **Usage.** `inputTokens` = whitespace-separated words of the system prompt and every
//!    message (text, escalation instruction and directives included, reasoning, tool inputs as
//!    compact JSON, tool results), at least 1; `outputTokens` = words of the reply text and of the
//!    reasoning, or for tool calls the words of each call's compact JSON arguments + 1;
//!    `totalTokens` = the sum. `metrics.latencyMs` is the real time spent.
//!
//! ConverseStream sends the same reply as `messageStart`, then per reasoning block one
//! `contentBlockDelta` `{"reasoningContent": {"text": piece}}` per word, per text block one
//! `contentBlockDelta` per word (leading space kept: `"You"`, `" said:"`, ...), each block closed
//! by `contentBlockStop`; per tool call `contentBlockStart` (`toolUseId`, `name`),
//! `contentBlockDelta`s holding 6 to 10 character fragments of the arguments' JSON,
//! `contentBlockStop`; then `messageStop` and `metadata` (usage, metrics). Every event carries a
//! `p` padding field as the real service's do.
//!
//! # Directives
//!
//! Read from the last user message's text (`then`/`loop`: the first user message's); removed
//! from the text the model reads. Effects apply to every operation unless said.
//!
//! | directive | effect |
//! | --- | --- |
//! | `[[call:NAME]]`, `[[call:NAME {json}]]` | call tool NAME (with these arguments): rule 2 |
//! | `[[then:NAME ...]]`, `[[loop:NAME ...]]` | tool calls after the first / every tool-result turn: rule 1 |
//! | `[[words:N]]` | the reply is `word1 ... wordN` |
//! | `[[maxtokens]]`, `[[stop]]`, `[[guardrail]]`, `[[context]]` | stop reason `max_tokens`, `stop_sequence`, `guardrail_intervened`, `model_context_window_exceeded` |
//! | `[[hard]]` | with the escalation instruction, a model below `Large` answers `ESCALATION_MARKER`; a triage call answers `hard` (rule 0) |
//! | `[[broken-json]]` | a model below `Large` answers a JSON request with JSON that does not parse (rule 3), and calls tools with empty arguments (`{}`) |
//! | `[[intervene]]` | with a guardrail configured: the guardrail intervenes (see Guardrails); without one, nothing |
//! | `[[fault:NAME]]` | the HTTP error NAME (table below), whatever the model |
//! | `[[fault:NAME@MODEL]]` | the same, only when the call's foundation model is MODEL: an alias (`mistral-small`, per `shared::catalog::by_name`), a model or profile id or an ARN; other models answer normally |
//! | `[[slow:MS]]` | wait MS milliseconds before the response headers (slow first byte) |
//! | `[[delay:MS]]` | streams: wait MS milliseconds between consecutive frames |
//! | `[[midstream:TYPE]]` | streams: after the first two deltas (ConverseStream: after `messageStart` and two deltas; native: two chunks), or before the stop if there are fewer, an exception frame of `:exception-type` TYPE (`throttlingException`, `modelStreamErrorException`, `internalServerException`, `serviceUnavailableException`, `validationException`; or the aliases `throttle`, `model_error`, `internal`, `unavailable`, `validation`), then the body ends. Ignored by Converse. |
//!
//! | fault NAME | error |
//! | --- | --- |
//! | `throttle` | 429 `ThrottlingException` |
//! | `throttle_once` | 429 the first time this exact body arrives; a retry of it succeeds |
//! | `validation` | 400 `ValidationException` |
//! | `access_denied` | 403 `AccessDeniedException` |
//! | `not_found` | 404 `ResourceNotFoundException` |
//! | `model_timeout` | 408 `ModelTimeoutException` |
//! | `model_error` | 424 `ModelErrorException` |
//! | `not_ready` | 429 `ModelNotReadyException` |
//! | `quota` | 400 `ServiceQuotaExceededException` |
//! | `internal` | 500 `InternalServerException` |
//! | `unavailable` | 503 `ServiceUnavailableException` |
//!
//! Faults are applied after validation and after `[[slow:MS]]`; with several faults for the
//! call's model, the last one applies. Every error has the header `x-amzn-ErrorType: <Name>` and
//! the body `{"message": "..."}`.
//!
//! # Formats
//!
//! | operation / format | request | answer |
//! | --- | --- | --- |
//! | Converse | Converse JSON (`messages`, `system`, `inferenceConfig`, `toolConfig`, `outputConfig`, `guardrailConfig`) | `{"output": {"message": {"role", "content": [reasoningContent?, text \| toolUse...]}}, "stopReason", "usage", "metrics", "trace"?}` |
//! | ConverseStream | the same, `guardrailConfig` may add `streamProcessingMode` | events `messageStart`, `contentBlockStart`?, `contentBlockDelta`, `contentBlockStop`, `messageStop`, `metadata` (`usage`, `metrics`, `trace`?) |
//! | InvokeModel, chat body | `{"messages": [{"role": system\|user\|assistant\|tool, "content", "tool_calls"?, "tool_call_id"?}], "tools"?, "tool_choice"?, "max_tokens"?, "temperature"?, "top_p"?, "response_format"?}` | `{"id", "object": "chat.completion", "created", "model", "choices": [{"index": 0, "message": {"role", "content", "tool_calls"?}, "stop_reason"}], "usage"}` |
//! | InvokeModel, text body | `{"prompt": "<s>[INST] ... [/INST]", "max_tokens"?, "stop"?, "temperature"?, "top_p"?, "top_k"?}` | `{"outputs": [{"text", "stop_reason"}]}` |
//! | InvokeModelWithResponseStream | either body | `chunk` events, payload `{"bytes": base64(JSON)}`: chat `{"choices": [{"index": 0, "message": {"role", "content": piece}, "stop_reason": null}]}`, text `{"outputs": [{"text": piece, "stop_reason": null}]}`; the last with `stop_reason` and `amazon-bedrock-invocationMetrics` |
//! | guardrail, Converse(Stream) | `guardrailConfig` `{guardrailIdentifier, guardrailVersion, trace?}` | see Guardrails |
//! | guardrail, Invoke* | headers `X-Amzn-Bedrock-GuardrailIdentifier`, `-GuardrailVersion`, `-Trace` | top-level `amazon-bedrock-guardrailAction` (`NONE`/`INTERVENED`), `amazon-bedrock-trace`? (the last chunk of a stream) |
//! | errors | — | HTTP status, `x-amzn-ErrorType`, `{"message"}`; in streams, exception frames |
//!
//! InvokeModel answers `content-type: application/json` with `x-amzn-bedrock-input-token-count`,
//! `x-amzn-bedrock-output-token-count` and `x-amzn-bedrock-invocation-latency`; the stream answers
//! `application/vnd.amazon.eventstream` with `x-amzn-bedrock-content-type: application/json`. The
//! native bodies, their checks and their mapping to the script are detailed in `native/mod.rs`.
//! `last_request()` reports the operation as `converse`, `converse-stream`, `invoke` or
//! `invoke-with-response-stream`, and InvokeModel's guardrail headers under `guardrailConfig`.
//!
//! # Guardrails
//!
//! `guardrailConfig` is checked like Bedrock: `guardrailIdentifier` `[a-z0-9]+` or a guardrail ARN
//! (`arn:aws(-*)?:bedrock:REGION:ACCOUNT:guardrail/ID`), `guardrailVersion` `DRAFT` or 1 to
//! 99999999, `trace` `enabled`/`disabled`/`enabled_full`, `streamProcessingMode` `sync`/`async` and
//! only on ConverseStream (InvokeModel: both headers or neither, trace `ENABLED`/`DISABLED`/
//! `ENABLED_FULL`). With `[[intervene]]` the configured guardrail intervenes on the output: the
//! content becomes one text block [`guardrail::BLOCKED_MESSAGE`] ("Sorry, the model cannot answer
//! this question."), `stopReason: guardrail_intervened` (native: `stop_reason` `stop`, action
//! `INTERVENED`), usage still counting what the model wrote; streams send the message as one
//! delta or chunk. With a trace, `trace.guardrail` holds `inputAssessment` and
//! `outputAssessments` keyed by the guardrail id (content-policy filters and
//! `invocationMetrics`), `actionReason`, and after an intervention `modelOutput` (the blocked
//! text) and a `VIOLENCE` filter with action `BLOCKED`; `enabled_full` also lists the filters
//! that detected nothing.
//!
//! # Assumptions where AWS is silent
//!
//! - The native chat body accepts `response_format` (`text`, `json_object`, `json_schema` with a
//!   `schema` object) as Mistral's own API does; `json_object` is read as a schema `{"type":
//!   "object"}` named `json_object` (the answer is `{}`), as the gateway maps it for Converse.
//! - Native bodies refuse keys AWS does not list (`extraneous key [x] is not permitted`), except
//!   `amazon-bedrock-guardrailConfig`; `top_k` is 1 to 200; native answers carry no reasoning.
//! - A body with neither `messages` nor `prompt` is checked as the model's chat body when it takes
//!   one. Native tool-call ids are 9 letters/digits, as Mistral's; `tool_call_id` must name a
//!   tool call of an earlier assistant message.
//! - The escalation instruction may end a native turn's text (it has no blocks to come in).
//! - The wording of [`validate::NO_STRUCTURED_OUTPUT`] is ours: Bedrock's message for
//!   `outputConfig` to a model without structured output was found neither in a recording nor
//!   in public reports. The native `response_format` is not checked against the model.
//! - Stream chunks of InvokeModelWithResponseStream carry no `p` padding; `created` is the clock,
//!   `model` the foundation-model id.
//!
//! # Queued replies
//!
//! A test that needs Bedrock to answer something the script does not (a recorded reply, or a
//! stream it releases step by step) queues it: [`Emulator::enqueue`] takes a [`Reply`] and
//! returns a [`Gate`]. Each call takes the oldest queued reply, whatever its operation, model id
//! or body, before any validation or directive; the scripted model answers only when the queue
//! is empty. Queued calls are still counted by `requests()` and recorded by `last_request()`.
//!
//! | reply | what the call gets |
//! | --- | --- |
//! | `Reply::recorded(status, content_type, body)` | the status, `content-type` and raw bytes as given (an event-stream body is sent frame by frame) |
//! | `Reply::error(status, error_type, message)` | the status, `x-amzn-ErrorType` and `{"message"}`, as Bedrock sends errors |
//! | `Reply::frames(iter)` | `200` `application/vnd.amazon.eventstream`, each frame taken from the iterator when its turn comes |
//! | `.error_type(name)` | adds `x-amzn-ErrorType` to a recorded reply |
//! | `.hold_at(n)` | frames `0..n` go out, the rest waits for `gate.release()` |
//!
//! The gate reports `sent()` (frames handed to the HTTP server), `dropped_early()` (the body was
//! dropped before its end: the client went away) and `first_sent_at()`.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use dev::emulator::{Emulator, Reply, frames};
//! let emulator = Emulator::start().await?;
//! let start = frames::event_frame("messageStart", &serde_json::json!({"role": "assistant"}), 3);
//! let gate = emulator.enqueue(Reply::frames([start]).hold_at(0));
//! // ... start the call, check nothing arrived yet ...
//! gate.release();
//! # Ok(()) }
//! ```

mod converse;
pub mod faults;
pub mod frames;
pub mod guardrail;
mod handle;
mod handling;
pub mod models;
mod native;
mod queue;
pub mod script;
mod server;
mod streaming;
pub mod validate;

pub use handle::Emulator;
pub use queue::{Gate, Reply};
