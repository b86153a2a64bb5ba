"""Render: templates -> a prepared message per edition variant (CSS inlined once)."""
