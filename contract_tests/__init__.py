"""hitl-contract: a property-based conformance suite for the LangGraph Server interrupt/resume contract.

Run it against any server by URL (`hitl-contract run URL`, or `pytest --hitl-url URL`); it reports clause by
clause (see `contract_tests.clauses`)."""

__version__ = "0.1.0"
