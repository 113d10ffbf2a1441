"""The HTTP API, one module per resource. Each module exposes its routes as a plain list, `routes`; the app
factory (app.py) assembles them. Shared pieces: `common` (request parsing, JSON answers), `sse` (SSE framing
and wait bodies), `errors` (error answers), `middleware` (CORS, HTTP faults)."""
