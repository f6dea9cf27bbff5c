"""Pieces of chat-completions requests that several SDK test files send."""


def tool(name):
    """A client-side function tool taking a `city`."""
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": f"The {name} tool",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }


def user(text):
    """A conversation of one user message."""
    return [{"role": "user", "content": text}]
