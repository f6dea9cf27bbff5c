//! ConverseStream events → chat-completion chunks → server-sent events.
