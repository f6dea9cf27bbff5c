//! A Bedrock Runtime look-alike on loopback, for tests and local development: `POST
//! /model/{modelId}/converse` and `/converse-stream` with the real wire format (JSON replies,
//! CRC-checked `application/vnd.amazon.eventstream` frames, `x-amzn-ErrorType` errors), so the
//! real `aws-sdk-bedrockruntime` client can be pointed at it (`endpoint_url(emulator.url())`).
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
//! or an ARN (`.../foundation-model/<id>`, `.../inference-profile/<id>`) ending in such an ID.
//! Anything else is `400 ValidationException` "The provided model identifier is invalid.", on
//! both operations, like the real service.
//!
//! Then, like Bedrock, before any generation (`400 ValidationException`): a body that is not JSON;
//! `messages` missing or empty; a first message that is not `user`; two consecutive messages with
//! the same role; a message with empty `content`; a `toolResult` whose `toolUseId` is not a
//! `toolUse` of the immediately preceding assistant message; an assistant `toolUse` that the next
//! message (when there is one) does not answer; `toolUse`/`toolResult` blocks without
//! `toolConfig`; `toolConfig.tools` empty (or `toolChoice` without tools, or naming an undefined
//! tool, duplicate or malformed tool names); `inferenceConfig.temperature` or `topP` outside
//! [0, 1], `maxTokens` < 1; `outputConfig.textFormat` of type `json_schema` whose
//! `structure.jsonSchema.schema` is not a string holding a JSON schema object.
//!
//! # The scripted model
//!
//! Let T be the text of the last user message (its text blocks joined by spaces), with the
//! directives (`[[...]]` tokens, listed below) removed and whitespace collapsed. The reply is:
//!
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
//!    `[[words:N]]` replaces the whole reply by exactly N words `word1 word2 ... wordN`. When
//!    `outputConfig.textFormat.type` is `json_schema`, the text is instead a compact JSON value
//!    generated from the schema (same rules as tool arguments), so it validates. Stop reason
//!    `end_turn`, or: `[[maxtokens]]` → `max_tokens`, `[[stop]]` → `stop_sequence`,
//!    `[[guardrail]]` → `guardrail_intervened`, `[[context]]` → `model_context_window_exceeded`.
//!    If `inferenceConfig.maxTokens` is below the reply's word count, the reply is cut to that
//!    many words and the stop reason is `max_tokens`.
//! 4. **Usage.** `inputTokens` = whitespace-separated words of the system prompt and every
//!    message (text, tool inputs as compact JSON, tool results), at least 1; `outputTokens` = words
//!    of the reply text, or for tool calls the words of each call's compact JSON arguments + 1;
//!    `totalTokens` = the sum. `metrics.latencyMs` is the real time spent.
//!
//! ConverseStream sends the same reply as `messageStart`, then per text block one
//! `contentBlockDelta` per word (leading space kept: `"You"`, `" said:"`, ...) and
//! `contentBlockStop`; per tool call `contentBlockStart` (`toolUseId`, `name`), `contentBlockDelta`s
//! holding 6 to 10 character fragments of the arguments' JSON, `contentBlockStop`; then
//! `messageStop` and `metadata` (usage, metrics). Every event carries a `p` padding field as
//! the real service's do.
//!
//! # Fault and timing directives
//!
//! Read from the last user message's text; removed from the echoed text.
//!
//! | directive | effect (both operations unless said) |
//! | --- | --- |
//! | `[[fault:throttle]]` | 429 `ThrottlingException` |
//! | `[[fault:throttle_once]]` | 429 the first time this exact body arrives; a retry of it succeeds |
//! | `[[fault:validation]]` | 400 `ValidationException` |
//! | `[[fault:access_denied]]` | 403 `AccessDeniedException` |
//! | `[[fault:not_found]]` | 404 `ResourceNotFoundException` |
//! | `[[fault:model_timeout]]` | 408 `ModelTimeoutException` |
//! | `[[fault:model_error]]` | 424 `ModelErrorException` |
//! | `[[fault:not_ready]]` | 429 `ModelNotReadyException` |
//! | `[[fault:quota]]` | 400 `ServiceQuotaExceededException` |
//! | `[[fault:internal]]` | 500 `InternalServerException` |
//! | `[[fault:unavailable]]` | 503 `ServiceUnavailableException` |
//! | `[[slow:MS]]` | wait MS milliseconds before the response headers (slow first byte) |
//! | `[[delay:MS]]` | ConverseStream: wait MS milliseconds between consecutive events |
//! | `[[midstream:TYPE]]` | ConverseStream: after `messageStart` and the first two deltas, an exception frame of `:exception-type` TYPE (`throttlingException`, `modelStreamErrorException`, `internalServerException`, `serviceUnavailableException`, `validationException`; or the aliases `throttle`, `model_error`, `internal`, `unavailable`, `validation`), then the body ends. Ignored by Converse. |
//!
//! Faults are applied after validation and after `[[slow:MS]]`. Every error has the header
//! `x-amzn-ErrorType: <Name>` and the body `{"message": "..."}`.

pub mod faults;
pub mod frames;
pub mod script;
mod server;
pub mod validate;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::serve::ListenerExt;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A running emulator. Dropping it stops the server (gracefully: in-flight replies finish).
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Emulator {
    /// Serves on a free port of 127.0.0.1, on the current tokio runtime; returns once accepting.
    pub async fn start() -> std::io::Result<Emulator> {
        Emulator::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Serves on `addr` (port 0 picks a free one), on the current tokio runtime.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        // Without NODELAY, small event frames wait on delayed ACKs and streams stutter.
        let listener = listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::warn!(%error, "bedrock emulator could not set TCP_NODELAY");
            }
        });
        let shared = Arc::new(server::Shared::default());
        let app = server::router(shared.clone());
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let serving = axum::serve(listener, app).with_graceful_shutdown(async {
                // A dropped sender is a shutdown too.
                let _ = stopped.await;
            });
            if let Err(error) = serving.await {
                tracing::error!(%error, "bedrock emulator stopped");
            }
        });
        Ok(Emulator { addr, shared, shutdown: Some(shutdown) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the value for the SDK's `endpoint_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Converse and ConverseStream requests received so far, whatever their outcome.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// The last request's JSON body, with `modelId` (percent-decoded) and `operation`
    /// (`converse` or `converse-stream`) added; a body that is not a JSON object is kept as a
    /// string under `rawBody`.
    pub fn last_request(&self) -> Option<Value> {
        self.shared.last_request.lock().unwrap_or_else(|poison| poison.into_inner()).clone()
    }

    /// The emulator's routes with a state of their own, to mount in another server.
    pub fn router() -> Router {
        server::router(Arc::new(server::Shared::default()))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
