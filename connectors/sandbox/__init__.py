"""The sandbox marketplace: a local, deterministic, fault-injectable stand-in for the marketplace APIs.

Kept import-light on purpose: evaluation code that only needs ``truth`` or the generator should not pay
for FastAPI/uvicorn. Entry points: ``orders`` and ``refunds`` (generators), ``truth`` (evaluation only),
``app.create_app``, ``server.sandbox_server`` / ``server.run_sandbox``, ``config.SandboxConfig``.
The generative story and its parameters are in this package's README.md.
"""
