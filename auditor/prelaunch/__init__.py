"""Check before launch: templates and planned instances proved like running ones."""
