"""The run layer, split by concern:

- `scheduler`: the per-thread queue, multitask strategies, cancel;
- `executor`: drives the engine for one run and writes its outcome back to the thread;
- `broker`: what a run streams, fanned out to subscribers, with replay buffers, resumable ids and joins;
- `result`: the body `/runs/wait` and `/join` answer with.
"""
