"""A chat conversation as every layer passes it: OpenAI-format messages, each {"role": ..., "content": ...}.

Its own module, without torch: prompts, tickets and backends all import it.
"""

Messages = list[dict[str, str]]
