"""`mm mcp`: the engine behind the Model Context Protocol (stdio), on the official SDK.

`tools.py` declares the tools (arguments as pydantic models, their JSON Schemas, the named
model tools of `[mcp.tools]`); `work.py` does each tool's work with the engine, synchronously;
`server.py` is the only module that imports the SDK; `install.py` writes MCP clients' config.
"""
