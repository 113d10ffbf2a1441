"""hitl-mock: a stateful, scriptable stand-in for the LangGraph Server API (threads, runs, interrupts)."""

__version__ = "0.1.0"
