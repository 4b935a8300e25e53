"""数据管理 page parts: import, export, templates, audit log and accounts (one module each)."""
