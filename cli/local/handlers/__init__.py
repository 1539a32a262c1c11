"""One module per resource family; each has register(router)."""
