"""Thread streams: protocol v2 (the SDKs' `client.threads.stream`), as langgraph-api 0.16.7 serves it.

- `runner`: how a protocol run (`run.start`, `input.respond`) executes: LangGraph's own v3 event stream
  (`astream_events(version="v3")`), its events published on the run's broker as the official worker publishes them;
- `shapes`: the official server's wire shaping of payloads (interrupts, updates, messages in state);
- `session`: `RunSession`, one run's broker events (v1 or v3) normalised into protocol events;
- `log`: `ThreadLog`, a thread's protocol events with their `seq`, kept for replay, fanned out to subscribers;
- `hub`: `ProtocolHub`, the thread logs, fed by every run on a thread once the thread is protocol-active;
- `commands`: `run.start`, `input.respond`, `agent.getTree`, `subscription.*`.

The routes are `api/protocol.py`.
"""
